"""Position consistency (asked A first and B first) and the lean to the longer response."""

from __future__ import annotations

import pytest

from webapp.judges.metrics import longer_share, position_consistency


def test_only_pairs_asked_both_ways_count() -> None:
    ab = ["a", "a", "b", "tie", "", "a"]
    ba = ["a", "b", "b", "tie", "b", ""]
    out = position_consistency(ab, ba)
    # asked both ways: (a, a) (a, b) (b, b) (tie, tie): three the same
    assert out["n"] == 4
    assert out["consistency"] == pytest.approx(3 / 4)
    # shown first: A when asked A first (a, a: 2 of 3 sided answers), B when asked B first
    # (b, b: 2 of 3): 4 of 6
    assert out["first_shown_share"] == pytest.approx(4 / 6)


def test_a_judge_that_always_picks_the_first_shown_is_never_consistent() -> None:
    out = position_consistency(["a"] * 5, ["b"] * 5)
    assert out["consistency"] == 0.0
    assert out["first_shown_share"] == 1.0


def test_no_pair_asked_both_ways_gives_no_figure() -> None:
    assert position_consistency(["a", ""], ["", "b"]) == {
        "n": 0,
        "consistency": None,
        "first_shown_share": None,
    }


def test_longer_share_skips_ties_and_equal_lengths() -> None:
    choice = ["a", "b", "a", "tie", "b"]
    len_a = [10, 10, 5, 10, 7]
    len_b = [5, 5, 5, 1, 9]
    # decisive with different lengths: (a, 10>5) longer, (b, 10>5) shorter, (b, 7<9) longer
    out = longer_share(choice, len_a, len_b)
    assert out == {"n": 3, "share": pytest.approx(2 / 3)}
