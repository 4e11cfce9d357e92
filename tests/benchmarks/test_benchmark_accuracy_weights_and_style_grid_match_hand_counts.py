"""Benchmark figures on cases worked out by hand: RewardBench's category weighting, RM-Bench's
3 x 3 style grid and its easy / normal / hard split, and intervals over items."""

from __future__ import annotations

import numpy as np
import pytest

from webapp.benchmarks.metrics import accuracy_table, style_grid, weighted_accuracy
from workers.rm.benchmark import correct


def test_correct_follows_the_label_and_a_reward_tie_is_half() -> None:
    margins = np.array([1.0, -2.0, 0.0, 3.0, -1.0])
    labels = ["a", "a", "b", "b", "b"]
    assert correct(margins, labels).tolist() == [1.0, 0.0, 0.5, 0.0, 1.0]


def test_rewardbench_weights_average_the_category_accuracies() -> None:
    # x: 2 of 2 right, weight 1; y: 1 of 4 right, weight 3
    values = [1, 1, 1, 0, 0, 0]
    cats = ["x", "x", "y", "y", "y", "y"]
    out = accuracy_table(values, cats, weights={"x": 1.0, "y": 3.0})
    assert out["accuracy"] == pytest.approx(3 / 6)  # every pair once
    assert {c["category"]: c["accuracy"] for c in out["categories"]} == {"x": 1.0, "y": 0.25}
    assert out["weighted"] == pytest.approx((1.0 * 1 + 0.25 * 3) / 4)


def test_a_category_without_a_weight_counts_nothing() -> None:
    assert weighted_accuracy({"x": 1.0, "y": 0.0}, {"x": 2.0}) == 1.0
    assert weighted_accuracy({"x": 1.0}, {"z": 1.0}) is None


def test_the_style_grid_and_its_three_splits() -> None:
    # two items, nine pairs each (chosen style i against rejected style j); the model is right
    # when the chosen answer is at least as styled as the rejected one (i >= j), and wrong
    # otherwise, except once on item 2 at (0, 2)
    rows = [(item, i, j) for item in (1, 2) for i in range(3) for j in range(3)]
    values = [1.0 if i >= j or (item == 2 and (i, j) == (0, 2)) else 0.0 for item, i, j in rows]
    out = style_grid(values, [i for _, i, _ in rows], [j for _, _, j in rows])
    assert out["grid"] == [[1.0, 0.0, 0.5], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    assert out["normal"] == pytest.approx(1.0)  # the diagonal
    assert out["easy"] == pytest.approx(1.0)  # below it: chosen more styled
    assert out["hard"] == pytest.approx((0.0 + 0.5 + 0.0) / 3)  # above it
    assert out["average"] == pytest.approx(6.5 / 9)


def test_intervals_resample_items_not_pairs() -> None:
    # 20 items of nine pairs, each item all right or all wrong: resampling pairs would make
    # the interval about three times too narrow
    values = np.repeat([1.0] * 10 + [0.0] * 10, 9)
    items = np.repeat([str(k) for k in range(20)], 9)
    by_item = accuracy_table(values, ["c"] * len(values), items=items)
    by_pair = accuracy_table(values, ["c"] * len(values))
    width = by_item["interval"][1] - by_item["interval"][0]
    assert width == pytest.approx(2 * 1.96 * np.sqrt(0.25 / 20), abs=0.06)
    assert width > 2.5 * (by_pair["interval"][1] - by_pair["interval"][0])
