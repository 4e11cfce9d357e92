"""Agreement figures against cases worked out by hand (and Fleiss' published example)."""

from __future__ import annotations

import math

import pytest

from webapp.labelling import agreement


def frame(rows: list[tuple]) -> object:
    """rows: (task, worker, label[, strength[, left[, time_ms]]])"""
    full = [tuple(r) + (None,) * (6 - len(r)) for r in rows]
    return agreement.votes_frame(full)


def test_ordinal_alpha_matches_a_hand_computed_coincidence_matrix() -> None:
    # Values -1, 0, +1 on the graded scale (B slightly, tie, A slightly). By hand:
    # n = 8, n(-1) = 2, n(0) = 3, n(+1) = 3; ordinal distances 6.25, 9, 30.25;
    # observed 2 x 9 = 18, expected 2 x (6 x 6.25 + 9 x 9 + 6 x 30.25) = 600;
    # alpha = 1 - 7 x 18 / 600 = 0.79.
    votes = frame(
        [
            (1, 1, "a", 0), (1, 2, "a", 0),
            (2, 1, "b", 0), (2, 2, "b", 0),
            (3, 1, "a", 0), (3, 2, "tie"),
            (4, 1, "tie"), (4, 2, "both_bad"),
        ]
    )  # fmt: skip
    result = agreement.alphas(votes)
    assert result["graded"] == pytest.approx(0.79)
    assert result["headline"] == "graded" and result["value"] == pytest.approx(0.79)
    assert result["direction"] == pytest.approx(0.79)


def test_graded_alpha_uses_strengths_and_direction_alpha_does_not() -> None:
    # Both annotators always agree on the side but never on the strength.
    votes = frame(
        [(t, 1, "a" if t % 2 else "b", 0) for t in range(10)]
        + [(t, 2, "a" if t % 2 else "b", 2) for t in range(10)]
    )
    result = agreement.alphas(votes)
    assert result["direction"] == pytest.approx(1.0)
    assert result["graded"] < 0.9


def test_votes_without_strength_make_direction_the_headline() -> None:
    votes = frame([(1, 1, "a"), (1, 2, "a"), (2, 1, "b"), (2, 2, "tie")])
    result = agreement.alphas(votes)
    assert result["graded"] is None and result["headline"] == "direction"


def test_alpha_is_undefined_when_everyone_gives_one_answer() -> None:
    assert agreement.alphas(frame([(1, 1, "a"), (1, 2, "a")]))["direction"] is None


def test_cohens_kappa_matches_the_hand_computed_value() -> None:
    # p_o = 8/10, p_e = (5x4 + 4x4 + 1x2) / 100 = 0.38, kappa = 0.42 / 0.62
    first = ["a", "a", "a", "a", "a", "b", "b", "b", "b", "tie"]
    second = ["a", "a", "a", "a", "b", "b", "b", "b", "tie", "tie"]
    votes = frame(
        [(t, 1, lb) for t, lb in enumerate(first)] + [(t, 2, lb) for t, lb in enumerate(second)]
    )
    (pair,) = agreement.cohen_pairwise(votes)
    assert pair["kappa"] == pytest.approx(0.42 / 0.62)
    assert pair["agreement"] == pytest.approx(0.8)
    assert pair["n"] == 10


def test_fleiss_kappa_matches_fleiss_published_example() -> None:
    # Fleiss (1971), as worked on Wikipedia: 10 subjects, 14 raters, 5 categories, 0.210.
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    rows = []
    for task, counts in enumerate(table):
        worker = 0
        for category, n in enumerate(counts):
            for _ in range(n):
                rows.append((task, worker, f"c{category}"))
                worker += 1
    result = agreement.fleiss_kappa(frame(rows))
    assert result["kappa"] == pytest.approx(0.20993, abs=1e-4)
    assert (result["items"], result["raters"]) == (10, 14)


def test_fleiss_kappa_uses_pairs_with_the_usual_number_of_raters() -> None:
    votes = frame(
        [
            *[(1, 1, "a"), (1, 2, "a"), (1, 3, "a"), (2, 1, "a"), (2, 2, "b"), (2, 3, "b")],
            *[(3, 1, "b"), (4, 1, "a"), (4, 2, "b")],  # two pairs with three raters, two without
        ]
    )
    result = agreement.fleiss_kappa(votes)
    assert (result["items"], result["raters"]) == (2, 3)


def test_raw_agreement_counts_agreeing_pairs_of_votes() -> None:
    # (a, a, b): 2 of 6 ordered pairs agree; (a, a, a): 6 of 6 -> 8 / 12
    votes = frame([(1, 1, "a"), (1, 2, "a"), (1, 3, "b"), (2, 1, "a"), (2, 2, "a"), (2, 3, "a")])
    result = agreement.raw_agreement(votes)
    assert result["pairwise"] == pytest.approx(8 / 12)
    assert result["unanimous"] == pytest.approx(0.5)


def test_dawid_skene_outvotes_annotators_who_always_say_the_same() -> None:
    truth = ["a" if t % 2 else "b" for t in range(28)]
    rows = [(t, w, truth[t]) for t in range(28) for w in (1, 2)]
    rows += [(t, w, "b") for t in range(28) for w in (3, 4)]
    rows += [(99, 1, "a"), (99, 3, "b"), (99, 4, "b")]
    labels = agreement.aggregate(frame(rows))
    assert labels.loc[99, "majority_label"] == "b"
    assert labels.loc[99, "ds_label"] == "a"
    assert labels.loc[99, "ds_confidence"] > 0.9
    assert labels.loc[99, "n_votes"] == 3


def test_gold_answers_guide_dawid_skene() -> None:
    votes = frame([(1, 1, "a"), (1, 2, "b"), (2, 1, "a"), (2, 2, "b")])
    labels = agreement.aggregate(votes, gold={1: "b"})
    assert labels.loc[2, "ds_label"] == "b"  # annotator 2 was right on the gold pair


def test_position_bias_and_same_answer_are_flagged() -> None:
    rows = []
    for t in range(30):  # worker 1: left 27 times of 30; worker 2: half and half
        rows.append((t, 1, "a", 0, t >= 3, 1000 + t))
        rows.append((t, 2, "a" if t % 2 else "b", 0, bool(t % 2), 2000))
    for t in range(25):  # worker 3: always tie (no side), 25 votes
        rows.append((100 + t, 3, "tie", None, None, None))
    table = {r["worker"]: r for r in agreement.annotator_table(frame(rows), [])}
    assert table[1]["left_share"] == pytest.approx(0.9)
    assert table[1]["position_bias"] and table[1]["same_side"] and table[1]["same_answer"]
    assert table[1]["median_time_ms"] == pytest.approx(1014.5)
    assert table[2]["left_share"] == pytest.approx(0.5)
    assert not (table[2]["position_bias"] or table[2]["same_side"] or table[2]["same_answer"])
    assert table[3]["same_answer"] and table[3]["left_share"] is None
    assert table[3]["median_time_ms"] is None


def test_leaving_out_the_odd_annotator_raises_alpha() -> None:
    rows = [(t, w, "a" if t % 2 else "b", 0) for t in range(20) for w in (1, 2)]
    rows += [(t, 3, "b" if t % 2 else "a", 0) for t in range(20)]
    votes = frame(rows)
    base = agreement.alphas(votes)["value"]
    table = {r["worker"]: r for r in agreement.annotator_table(votes, [], headline="graded")}
    assert table[3]["alpha_without"] == pytest.approx(1.0)
    assert table[1]["alpha_without"] < base < table[3]["alpha_without"]
    assert not math.isnan(base)


def test_a_report_is_json_ready() -> None:
    import json

    votes = frame([(1, 1, "a", 1, True, 500), (1, 2, "b", 0, False, 700), (2, 1, "tie")])
    data = agreement.report(votes, gold={2: "tie"})
    json.dumps(data, allow_nan=False)
    assert data["n_votes"] == 3 and data["n_annotators"] == 2
    assert {r["worker"]: r["gold_accuracy"] for r in data["annotators"]}[1] == 1.0
