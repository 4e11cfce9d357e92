"""Kendall's W, Kendall's tau and ranking aggregates against cases worked out by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from webapp.labelling import ranking_agreement as ra
from webapp.labelling.derive import scores_of
from webapp.labelling.item_scores import ScoreRow
from webapp.projects.schemes import default_scheme_settings, scheme_settings_parse

SETTINGS = scheme_settings_parse(default_scheme_settings())


def answers(*rows: tuple) -> pd.DataFrame:
    """rows: (answer id, item, worker, payload), read as item_scores reads stored answers.
    The answer ids order repeats; item_scores' rows carry none, so they are put back here."""
    frames = []
    for answer, item, worker, payload in rows:
        kind = "ranking" if "tiers" in payload else "best_worst"
        scores = scores_of(kind=kind, payload=payload, settings=SETTINGS)
        frame = ra.rankings_frame(
            ScoreRow(item, p, worker, attribute, value, kind)
            for attribute, values in scores.items()
            for p, value in values.items()
        )
        frames.append(frame.assign(answer=answer))
    return pd.concat(frames, ignore_index=True)


def tiers(*groups: list[int]) -> dict:
    return {"tiers": [list(g) for g in groups]}


def test_kendalls_w_without_ties_matches_the_hand_computation() -> None:
    # Rank sums 4, 6, 8, 12 about a mean of 7.5: S = 12.25 + 2.25 + 0.25 + 20.25 = 35;
    # W = 12 x 35 / (3^2 x (4^3 - 4)) = 420 / 540 = 7/9.
    ranks = np.array([[1, 2, 3, 4], [2, 1, 3, 4], [1, 3, 2, 4]], dtype=float)
    assert ra.kendalls_w(ranks) == pytest.approx(7 / 9)


def test_kendalls_w_with_ties_uses_the_tie_correction() -> None:
    # Annotator 1 ties responses 1 and 2, annotator 3 ties 0 and 1 (each tie of two: T = 6).
    # Ranks: (1, 2.5, 2.5, 4), (2, 1, 3, 4), (1.5, 1.5, 3, 4); sums 4.5, 5, 8.5, 12;
    # S = 9 + 6.25 + 1 + 20.25 = 36.5; W = 12 x 36.5 / (9 x 60 - 3 x 12) = 438 / 504.
    frame = answers(
        (1, 7, 1, tiers([0], [1, 2], [3])),
        (2, 7, 2, tiers([1], [0], [2], [3])),
        (3, 7, 3, tiers([0, 1], [2], [3])),
    )
    ranks, workers, responses = ra.rank_matrix(frame)
    assert workers == [1, 2, 3] and responses == [0, 1, 2, 3]
    assert ranks[0].tolist() == [1, 2.5, 2.5, 4]
    assert ra.kendalls_w(ranks) == pytest.approx(438 / 504)
    # without the correction it would be 438 / 540
    assert ra.concordance(frame)["w_mean"] == pytest.approx(438 / 504)


def test_w_is_one_for_identical_orders_and_undefined_when_all_is_tied() -> None:
    same = np.array([[1, 2, 3], [1, 2, 3]], dtype=float)
    assert ra.kendalls_w(same) == pytest.approx(1.0)
    assert ra.kendalls_w(np.array([[2, 2, 2], [2, 2, 2]], dtype=float)) is None
    assert ra.kendalls_w(np.array([[1, 2, 3]], dtype=float)) is None


def test_mean_tau_between_annotators_matches_counted_pairs() -> None:
    # 1 vs 2: one discordant pair of six, tau = 4/6; 1 vs 3: likewise; 2 vs 3: two discordant,
    # tau = 2/6. Mean (2/3 + 2/3 + 1/3) / 3 = 5/9.
    frame = answers(
        (1, 1, 1, tiers([0], [1], [2], [3])),
        (2, 1, 2, tiers([1], [0], [2], [3])),
        (3, 1, 3, tiers([0], [2], [1], [3])),
    )
    figures = ra.concordance(frame)
    assert figures["tau_mean"] == pytest.approx(5 / 9)
    assert figures["tau_pairs"] == 3
    assert figures["tau_by_worker"][1] == pytest.approx(2 / 3)
    assert figures["tau_by_worker"][3] == pytest.approx(0.5)
    pair_23 = next(p for p in figures["tau_by_pair"] if (p["a"], p["b"]) == (2, 3))
    assert pair_23["tau"] == pytest.approx(1 / 3)


def test_a_best_worst_answer_compares_on_the_responses_both_placed() -> None:
    # Annotator 2 saw 0, 1, 2 only: best 2, worst 0. Annotator 1 ranked all four, 2 > 1 > 0 > 3.
    # On the common responses 0, 1, 2 both give the order 2, 1, 0: W = 1.
    frame = answers(
        (1, 5, 1, tiers([2], [1], [0], [3])),
        (2, 5, 2, {"shown": [0, 1, 2], "best": 2, "worst": 0}),
    )
    best_worst = frame[frame["worker"] == 2].set_index("response")["tier"]
    assert best_worst.to_dict() == {2: 0, 1: 1, 0: 2}
    ranks, _, responses = ra.rank_matrix(frame)
    assert responses == [0, 1, 2]
    assert ra.kendalls_w(ranks) == pytest.approx(1.0)


def test_the_aggregate_score_puts_ties_at_their_mean_rank() -> None:
    # Ranks 1, 2.5, 2.5, 4 of n = 4: scores (4 - rank) / 3 = 1, 0.5, 0.5, 0; a second
    # annotator's strict 3 > 2 > 1 > 0 gives 0, 1/3, 2/3, 1.
    frame = answers((1, 1, 1, tiers([0], [1, 2], [3])), (2, 1, 2, tiers([3], [2], [1], [0])))
    result = ra.aggregate(frame).loc[1]
    expected = [0.5, (0.5 + 1 / 3) / 2, (0.5 + 2 / 3) / 2, 0.5]
    assert result["score"].tolist() == pytest.approx(expected)
    assert result.loc[0, "score_std"] == pytest.approx(0.5)
    assert result["n"].tolist() == [2, 2, 2, 2]


def test_a_repeat_measures_self_consistency_and_nothing_else() -> None:
    # Annotator 1 ranks item 1 twice, swapping the top two the second time: tau-b 2/3.
    frame = answers(
        (1, 1, 1, tiers([0], [1], [2], [3])),
        (2, 1, 2, tiers([0], [1], [2], [3])),
        (9, 1, 1, tiers([1], [0], [2], [3])),
    )
    report = ra.report(frame)
    assert report["n_repeats"] == 1 and report["n_answers"] == 2
    assert report["kendall_w"]["mean"] == pytest.approx(1.0)  # the repeat is not in W
    mine = next(a for a in report["annotators"] if a["worker"] == 1)
    assert mine["self_consistency"] == {"n": 1, "tau_mean": pytest.approx(2 / 3), "same": 0.0}
    other = next(a for a in report["annotators"] if a["worker"] == 2)
    assert other["self_consistency"] is None


def test_the_set_based_figures_match_one_matrix_per_item_on_random_rankings() -> None:
    # Rankings with ties, and best-worst answers on subsets, of 30 items by 2 to 4 annotators:
    # W and tau from the group-bys equal those of each item's own matrix (rank_matrix,
    # kendalls_w, scipy's kendalltau).
    from scipy.stats import kendalltau

    rng = np.random.default_rng(5)
    rows, answer = [], 0
    for item in range(30):
        for worker in range(int(rng.integers(2, 5))):
            answer += 1
            order = [int(p) for p in rng.permutation(5)]
            if rng.random() < 0.3:
                shown = order[:3]
                payload = {"shown": sorted(shown), "best": shown[0], "worst": shown[-1]}
            else:
                cut = sorted(rng.choice(range(1, 5), size=int(rng.integers(0, 3)), replace=False))
                payload = {"tiers": [order[a:b] for a, b in zip([0, *cut], [*cut, 5], strict=True)]}
            rows.append((answer, item, worker, payload))
    frame = answers(*rows)
    figures = ra.concordance(frame)
    ws, taus = [], []
    for _, item_rows in frame.groupby("item"):
        ranks, _, _ = ra.rank_matrix(item_rows)
        if (w := ra.kendalls_w(ranks)) is not None:
            ws.append(w)
        for i in range(len(ranks)):
            for j in range(i + 1, len(ranks)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # a ranking that ties everything: NaN
                    tau = kendalltau(ranks[i], ranks[j]).statistic
                if np.isfinite(tau):
                    taus.append(tau)
    assert figures["w_items"] == len(ws) > 20
    assert figures["w_mean"] == pytest.approx(np.mean(ws))
    assert figures["tau_pairs"] == len(taus)
    assert figures["tau_mean"] == pytest.approx(np.mean(taus))
