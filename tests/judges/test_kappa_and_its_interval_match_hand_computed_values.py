"""Cohen's kappa, raw agreement and their bootstrap intervals, on cases worked out by hand."""

from __future__ import annotations

import math

import pytest

from webapp.judges.metrics import agreement_by_group, kappa_with_interval


def test_kappa_of_two_sided_labels_is_the_textbook_value() -> None:
    # agreement 3/4; chance: judge a 1/2, b 1/2, people a 1/4, b 3/4 -> 1/8 + 3/8 = 1/2
    out = kappa_with_interval(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert out["n"] == 4
    assert out["agreement"] == pytest.approx(0.75)
    assert out["kappa"] == pytest.approx((0.75 - 0.5) / (1 - 0.5))
    lo, hi = out["kappa_interval"]
    assert lo <= out["kappa"] <= hi and lo < hi


def test_a_tie_is_a_third_answer_and_both_bad_counts_as_a_tie() -> None:
    # judge a 2/4, b 1/4, tie 1/4; people a 1/4, b 2/4, tie 1/4
    # chance = 2/16 + 2/16 + 1/16 = 5/16; kappa = (3/4 - 5/16) / (11/16) = 7/11
    out = kappa_with_interval(["a", "b", "tie", "a"], ["a", "b", "both_bad", "b"])
    assert out["kappa"] == pytest.approx(7 / 11)


def test_perfect_agreement_has_a_point_interval_at_one() -> None:
    out = kappa_with_interval(["a", "b"] * 20, ["a", "b"] * 20)
    assert out["kappa"] == pytest.approx(1.0)
    assert out["kappa_interval"] == pytest.approx([1.0, 1.0])
    assert out["agreement_interval"] == pytest.approx([1.0, 1.0])


def test_the_agreement_interval_of_two_pairs_spans_every_resample() -> None:
    # one pair agrees, one does not: a resample's mean is 0, 1/2 or 1 with chances 1/4, 1/2,
    # 1/4, so the 2.5th and 97.5th percentiles are 0 and 1
    out = kappa_with_interval(["a", "b"], ["a", "a"])
    assert out["agreement"] == 0.5
    assert out["agreement_interval"] == [0.0, 1.0]


def test_the_interval_narrows_as_the_normal_approximation_says() -> None:
    # 400 pairs, 3/4 agreeing: the interval is about 0.75 +- 1.96 sqrt(0.75 * 0.25 / 400)
    judge = ["a"] * 300 + ["b"] * 100
    human = ["a"] * 400
    out = kappa_with_interval(judge, human, n_bootstrap=4000)
    half = 1.96 * math.sqrt(0.75 * 0.25 / 400)
    lo, hi = out["agreement_interval"]
    assert lo == pytest.approx(0.75 - half, abs=0.01)
    assert hi == pytest.approx(0.75 + half, abs=0.01)


def test_no_pairs_gives_no_figures_and_unequal_lengths_are_refused() -> None:
    assert kappa_with_interval([], [])["kappa"] is None
    with pytest.raises(ValueError):
        kappa_with_interval(["a"], ["a", "b"])


def test_agreement_by_group_keeps_groups_apart_in_numeric_order() -> None:
    rows = agreement_by_group(
        ["a", "a", "b", "b", "a"], ["a", "b", "b", "b", "a"], [10, 2, 2, None, 10]
    )
    assert [r["group"] for r in rows] == ["2", "10"]  # 2 before 10; None left out
    assert rows[0] == {"group": "2", "n": 2, "agreement": 0.5, "kappa": 0.0}
    assert rows[1]["n"] == 2 and rows[1]["agreement"] == 1.0
