"""Alpha per attribute, leniency, range use, repeats and aggregation of ratings against cases
worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from webapp.labelling import rating_agreement as ra
from webapp.labelling.item_scores import ScoreRow


def ratings(*rows: tuple) -> pd.DataFrame:
    """rows: (answer id, item, worker, {position: {attribute: value}}), as item_scores reads
    rating answers (plus the overall score, which is no rating and must be left out). The
    answer ids order repeats; item_scores' rows carry none, so they are put back here."""
    frames = []
    for answer, item, worker, values in rows:
        scores = [
            ScoreRow(item, p, worker, attribute, float(v), "rating")
            for p, by_attribute in values.items()
            for attribute, v in by_attribute.items()
        ]
        scores.append(ScoreRow(item, 0, worker, "", 99.0, "rating"))
        frames.append(ra.ratings_frame(scores).assign(answer=answer))
    return pd.concat(frames, ignore_index=True)


def two_raters() -> object:
    # Item 1, responses 0, 1, 2; helpfulness rated (1, 1), (2, 3), (3, 3) by annotators 1, 2.
    return ratings(
        (1, 1, 1, {0: {"helpfulness": 1}, 1: {"helpfulness": 2}, 2: {"helpfulness": 3}}),
        (2, 1, 2, {0: {"helpfulness": 1}, 1: {"helpfulness": 3}, 2: {"helpfulness": 3}}),
    )


def test_interval_alpha_matches_the_hand_computation() -> None:
    # n = 6 pairable values 1, 1, 2, 3, 3, 3. Observed: only unit 2 disagrees, (2-3)^2 twice,
    # D_o = 2 / 6. Expected: the 15 unordered pairs of values give 2x1 + 6x4 + 3x1 = 29,
    # D_e = 2 x 29 / (6 x 5). alpha = 1 - (1/3) / (58/30) = 48/58.
    figures = ra.attribute_alphas(ra.split_repeats(two_raters())[0])["helpfulness"]
    assert figures["interval"] == pytest.approx(48 / 58)
    assert figures["units"] == 3 and figures["ratings"] == 6


def test_ordinal_alpha_matches_the_hand_computation() -> None:
    # Marginals n1 = 2, n2 = 1, n3 = 3. Ordinal distances: d(1,2) = (3 - 1.5)^2 = 2.25,
    # d(2,3) = (4 - 2)^2 = 4, d(1,3) = (6 - 2.5)^2 = 12.25. D_o = 2 x 4 / 6;
    # D_e = 2 x (2 x 2.25 + 6 x 12.25 + 3 x 4) / 30 = 6. alpha = 1 - (8/6) / 6 = 7/9.
    figures = ra.attribute_alphas(ra.split_repeats(two_raters())[0])["helpfulness"]
    assert figures["ordinal"] == pytest.approx(7 / 9)


def test_alpha_is_kept_apart_per_attribute() -> None:
    frame = ratings(
        (1, 1, 1, {0: {"a": 1, "b": 0}, 1: {"a": 3, "b": 4}}),
        (2, 1, 2, {0: {"a": 1, "b": 4}, 1: {"a": 3, "b": 0}}),
    )
    alphas = ra.attribute_alphas(frame)
    assert alphas["a"]["interval"] == pytest.approx(1.0)
    assert alphas["b"]["interval"] < 0


def test_leniency_is_the_mean_gap_to_the_others_on_the_same_responses() -> None:
    # Response 0: 3, 1, 2. Annotator 1 against the others' mean 1.5: +1.5; annotator 2 against
    # 2.5: -1.5; annotator 3 against 2: 0. Response 1 rated by annotator 1 alone: no gap.
    # On a 0-4 scale, annotator 1's +1.5 is 0.375 of the width.
    frame = ratings(
        (1, 1, 1, {0: {"h": 3}, 1: {"h": 4}}),
        (2, 1, 2, {0: {"h": 1}}),
        (3, 1, 3, {0: {"h": 2}}),
    )
    first = ra.split_repeats(frame)[0]
    # rows: (1, r0), (1, r1), (2, r0), (3, r0)
    others = ra.others_mean(first).tolist()
    assert others[0] == 1.5 and math.isnan(others[1]) and others[2:] == [2.5, 2.0]
    lenient = ra.leniency(first, {"h": (0, 4)})
    assert lenient[1]["n"] == 1 and lenient[1]["mean"] == pytest.approx(0.375)
    assert lenient[1]["by_attribute"] == {"h": pytest.approx(1.5)}
    assert lenient[2]["mean"] == pytest.approx(-0.375)
    assert lenient[3]["mean"] == pytest.approx(0.0)
    # one gap is not evidence of anything
    assert not lenient[1]["lenient"] and not lenient[2]["severe"]


def test_range_use_counts_levels_and_spread_against_everyone() -> None:
    # Annotator 1 uses 0 and 4 (range share 1); annotator 2 only 2 (share 0, spread 0).
    frame = ratings(
        *[(t, t, 1, {0: {"h": 0 if t % 2 else 4}}) for t in range(1, 25)],
        *[(100 + t, t, 2, {0: {"h": 2}}) for t in range(1, 25)],
    )
    ranges = ra.range_use(frame, {"h": (0, 4)})
    assert ranges[1]["attributes"]["h"]["levels_used"] == 2
    assert ranges[1]["attributes"]["h"]["range_share"] == pytest.approx(1.0)
    assert ranges[2]["attributes"]["h"]["std_share"] == pytest.approx(0.0)
    assert ranges[2]["narrow"] == ["h"] and ranges[1]["narrow"] == []


def test_repeats_give_self_consistency_and_stay_out_of_the_other_figures() -> None:
    # Annotator 1 rates item 1 again (answer 5): response 0 the same, response 1 two lower.
    frame = ratings(
        (1, 1, 1, {0: {"h": 1}, 1: {"h": 4}}),
        (2, 1, 2, {0: {"h": 1}, 1: {"h": 4}}),
        (5, 1, 1, {0: {"h": 1}, 1: {"h": 2}}),
    )
    consistency = ra.self_consistency(frame)
    figures = {"n": 2, "same": 0.5, "mean_abs_diff": 1.0}
    assert consistency == {1: figures | {"by_attribute": {"h": figures}}}
    report = ra.report(frame, {"h": (0, 4)})
    assert report["n_repeats"] == 2 and report["n_ratings"] == 4
    assert report["attributes"]["h"]["interval"] == pytest.approx(1.0)


def test_aggregation_gives_the_mean_with_its_spread_and_dawid_skene_on_whole_levels() -> None:
    # Response 0: 1, 1, 4 -> mean 2, population std sqrt(2); Dawid-Skene picks level 1, the
    # level of the two annotators who agree everywhere else too.
    rows = []
    for response, values in enumerate([(1, 1, 4), (3, 3, 3), (0, 0, 1), (2, 2, 2), (4, 4, 0)]):
        for worker, value in enumerate(values, start=1):
            rows.append((worker * 10 + response, response, worker, {0: {"h": value}}))
    frame = ratings(*rows)
    result = ra.aggregate(frame, {"h": (0, 4)})
    first = result.loc[(0, 0, "h")]
    assert first["n"] == 3 and first["mean"] == pytest.approx(2.0)
    assert first["std"] == pytest.approx(math.sqrt(2))
    assert (first["low"], first["high"]) == (1, 4)
    assert first["ds_value"] == 1 and 0.5 < first["ds_confidence"] <= 1
    assert result.loc[(4, 0, "h"), "ds_value"] == 4


def test_dawid_skene_is_left_out_where_ratings_are_not_whole_levels() -> None:
    frame = ratings((1, 1, 1, {0: {"h": 1.5}}), (2, 1, 2, {0: {"h": 2.5}}))
    result = ra.aggregate(frame, {"h": (0, 4)})
    assert math.isnan(result.loc[(1, 0, "h"), "ds_value"])
    assert result.loc[(1, 0, "h"), "mean"] == pytest.approx(2.0)
