"""Benchmark figures from per-pair correctness: accuracy per category and overall with a
bootstrap interval, RewardBench's weighted score, and RM-Bench's 3 x 3 style grid. Pure numpy.

Intervals resample *items*, not pairs: RM-Bench's nine pairs of one item share a prompt and
six texts, and counting them as nine independent draws would make its interval too narrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

N_BOOTSTRAP = 1000
LEVEL = 0.95
STYLES = 3  # RM-Bench: concise, detailed, detailed with markdown


def _interval(values: np.ndarray, items: np.ndarray, seed: int) -> list[float] | None:
    """Percentile bootstrap interval of the mean of ``values``, resampling their items."""
    if len(values) == 0:
        return None
    keys, inverse = np.unique(items, return_inverse=True)
    sums = np.bincount(inverse, weights=values, minlength=len(keys))
    counts = np.bincount(inverse, minlength=len(keys)).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(keys), size=(N_BOOTSTRAP, len(keys)))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    tail = 100 * (1 - LEVEL) / 2
    return [float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))]


def accuracy_table(
    correct: npt.ArrayLike,
    categories: Sequence[str],
    *,
    items: Sequence[str] | None = None,
    weights: dict[str, float] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy per category and overall (each pair counts once), each with its interval, and,
    with ``weights``, the weighted mean of the category accuracies (RewardBench's way: each
    category's accuracy times its weight, over the sum of the weights of the categories
    present; a category without a weight counts 0)."""
    c = np.asarray(correct, dtype=np.float64)
    cats = np.asarray(categories, dtype=object)
    its = np.asarray(items if items is not None else [str(i) for i in range(len(c))], dtype=object)
    rows = []
    for cat in sorted(set(cats.tolist())):
        keep = cats == cat
        rows.append(
            {
                "category": cat,
                "n": int(keep.sum()),
                "accuracy": float(c[keep].mean()),
                "interval": _interval(c[keep], its[keep], seed),
            }
        )
    out: dict[str, Any] = {
        "n": len(c),
        "accuracy": float(c.mean()) if len(c) else None,
        "interval": _interval(c, its, seed),
        "categories": rows,
    }
    if weights:
        out["weighted"] = weighted_accuracy({r["category"]: r["accuracy"] for r in rows}, weights)
    return out


def weighted_accuracy(accuracy: dict[str, float], weights: dict[str, float]) -> float | None:
    total = sum(weights.get(cat, 0.0) for cat in accuracy)
    if total <= 0:
        return None
    return sum(acc * weights.get(cat, 0.0) for cat, acc in accuracy.items()) / total


def style_grid(
    correct: npt.ArrayLike, chosen_style: Sequence[Any], rejected_style: Sequence[Any]
) -> dict[str, Any]:
    """RM-Bench's figures: grid[i][j] is the accuracy of chosen in style i against rejected in
    style j (0 concise, 1 detailed, 2 detailed with markdown); *hard* is the mean above the
    diagonal (the chosen answer plainer than the rejected one, so style pulls the wrong way),
    *normal* the diagonal, *easy* below it, *average* the whole grid."""
    c = np.asarray(correct, dtype=np.float64)
    ci, rj = np.asarray(chosen_style), np.asarray(rejected_style)
    grid = np.full((STYLES, STYLES), np.nan)
    for i in range(STYLES):
        for j in range(STYLES):
            keep = (ci == i) & (rj == j)
            if keep.any():
                grid[i, j] = c[keep].mean()
    upper, lower = np.triu_indices(STYLES, 1), np.tril_indices(STYLES, -1)

    def mean(values: np.ndarray) -> float | None:
        values = values[np.isfinite(values)]
        return float(values.mean()) if len(values) else None

    return {
        "grid": [[None if np.isnan(v) else float(v) for v in row] for row in grid],
        "hard": mean(grid[upper]),
        "normal": mean(np.diag(grid)),
        "easy": mean(grid[lower]),
        "average": mean(grid.reshape(-1)),
    }
