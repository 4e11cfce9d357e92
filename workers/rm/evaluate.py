"""Held-out metrics of one reward model, the same for every run so that runs compare fairly.

Every held-out pair is oriented with its labelled winner as "chosen", so a margin
d = r(chosen) - r(rejected) > 0 is a correct prediction. p = sigmoid(d) is the model's
probability that the labelled winner wins. For calibration each pair counts twice, once as
(p, outcome 1) and once from the other side as (1 - p, outcome 0): otherwise every outcome
would be 1 and any model that always says "chosen, surely" would look calibrated.

ECE = sum over equal-width bins of p of (bin share) * |mean outcome - mean p|; no kept
library computes it (scikit-learn has the reliability curve, `calibration_curve`, which the
diagram uses, but not the error).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve

N_BINS = 10


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


def accuracy(margins: np.ndarray) -> float:
    """Share of pairs won by the labelled winner; a tie counts half."""
    margins = np.asarray(margins, dtype=np.float64)
    if margins.size == 0:
        return float("nan")
    return float(((margins > 0) + 0.5 * (margins == 0)).mean())


def _both_sides(margins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = _sigmoid(np.asarray(margins, dtype=np.float64))
    return np.concatenate([p, 1.0 - p]), np.concatenate([np.ones_like(p), np.zeros_like(p)])


def expected_calibration_error(margins: np.ndarray, *, n_bins: int = N_BINS) -> float:
    """ECE of sigmoid(margin) over equal-width probability bins (see the module docstring)."""
    if len(margins) == 0:
        return float("nan")
    p, y = _both_sides(margins)
    # bin i holds p in [i/n, (i+1)/n); p == 1 goes in the last bin
    which = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(y[inside].mean() - p[inside].mean())
    return float(total)


def reliability(margins: np.ndarray, *, n_bins: int = N_BINS) -> dict[str, list[float]]:
    """The reliability diagram: per non-empty bin, mean predicted p and the observed share."""
    if len(margins) == 0:
        return {"mean_predicted": [], "observed": []}
    p, y = _both_sides(margins)
    observed, predicted = calibration_curve(y, p, n_bins=n_bins, strategy="uniform")
    return {"mean_predicted": predicted.tolist(), "observed": observed.tolist()}


def evaluate(
    *,
    margins: np.ndarray,
    decile: np.ndarray | None = None,
    gold: np.ndarray | None = None,
) -> dict[str, Any]:
    """Metrics of held-out margins (N,). decile: (N,) strength decile 0-9 per pair from a
    scoring run, -1 where unknown; gold: (N,) bool, pairs with a gold answer."""
    margins = np.asarray(margins, dtype=np.float64)
    out: dict[str, Any] = {
        "n": len(margins),
        "accuracy": accuracy(margins),
        "loss": float(np.mean(np.logaddexp(0.0, -margins))) if len(margins) else float("nan"),
        "ece": expected_calibration_error(margins),
        "reliability": reliability(margins),
        "by_decile": [],
        "gold_n": 0,
        "gold_accuracy": None,
    }
    if decile is not None:
        for d in range(10):
            rows = decile == d
            if rows.any():
                out["by_decile"].append(
                    {"decile": d, "n": int(rows.sum()), "accuracy": accuracy(margins[rows])}
                )
    if gold is not None and gold.any():
        out["gold_n"] = int(gold.sum())
        out["gold_accuracy"] = accuracy(margins[gold])
    return out
