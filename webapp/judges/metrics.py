"""How far a judge can be trusted: pure functions over arrays of labels, no Django.

Labels are "a", "b" or "tie" (a person's "both bad" counts as a tie here: a judge has no such
answer). Intervals are percentile bootstraps over pairs, with a fixed seed so that a page
shows the same figures on every load. Cohen's kappa is scikit-learn's.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score

LABELS = ["a", "b", "tie"]
N_BOOTSTRAP = 1000
LEVEL = 0.95


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _codes(values: Sequence[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(LABELS)}
    return np.array([index["tie" if v == "both_bad" else v] for v in values], dtype=np.int64)


def _kappa_codes(x: np.ndarray, y: np.ndarray) -> float:
    """Cohen's kappa of two code arrays; nan where undefined (both always the same answer)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(cohen_kappa_score(x, y, labels=[0, 1, 2]))


def kappa_with_interval(
    judge: Sequence[str],
    human: Sequence[str],
    *,
    n_bootstrap: int = N_BOOTSTRAP,
    level: float = LEVEL,
    seed: int = 0,
) -> dict[str, Any]:
    """Cohen's kappa and raw agreement of two label sequences over the same pairs, each with a
    percentile bootstrap interval (pairs resampled with replacement)."""
    x, y = _codes(judge), _codes(human)
    n = len(x)
    if n != len(y):
        raise ValueError(f"{n} judge labels against {len(y)} human labels")
    if n == 0:
        return {"n": 0, "kappa": None, "kappa_interval": None, "agreement": None,
                "agreement_interval": None}  # fmt: skip
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, size=(n_bootstrap, n))
    same = x == y
    agreements = same[rows].mean(axis=1)
    kappas = np.array([_kappa_codes(x[r], y[r]) for r in rows])
    kappas = kappas[np.isfinite(kappas)]
    tail = 100 * (1 - level) / 2
    return {
        "n": n,
        "kappa": _finite(_kappa_codes(x, y)),
        "kappa_interval": (
            [float(np.percentile(kappas, tail)), float(np.percentile(kappas, 100 - tail))]
            if len(kappas)
            else None
        ),
        "agreement": float(same.mean()),
        "agreement_interval": [
            float(np.percentile(agreements, tail)),
            float(np.percentile(agreements, 100 - tail)),
        ],
    }


def agreement_by_group(
    judge: Sequence[str], human: Sequence[str], groups: Sequence[Any]
) -> list[dict[str, Any]]:
    """Raw agreement and kappa within each group (a strength decile, a category), in the
    groups' sorted order; pairs whose group is None are left out."""
    x, y = _codes(judge), _codes(human)
    keys = np.array([str(g) if g is not None else "" for g in groups], dtype=object)
    out = []
    for key in sorted({k for k in keys if k != ""}, key=_sort_key):
        rows = keys == key
        kappa = _kappa_codes(x[rows], y[rows])
        out.append(
            {
                "group": key,
                "n": int(rows.sum()),
                "agreement": float((x[rows] == y[rows]).mean()),
                "kappa": _finite(kappa),
            }
        )
    return out


def _sort_key(key: str) -> tuple[int, float, str]:
    try:
        return (0, float(key), key)
    except ValueError:
        return (1, 0.0, key)


def position_consistency(choice_ab: Sequence[str], choice_ba: Sequence[str]) -> dict[str, Any]:
    """Over the pairs a judge was asked both ways (A first, then B first): the share where it
    gave the same verdict about the responses, and the share of its decisive answers that went
    to the response shown first (0.5 for a judge without position bias). Pairs asked one way
    only (an empty answer) are left out."""
    both = [(ab, ba) for ab, ba in zip(choice_ab, choice_ba, strict=True) if ab and ba]
    if not both:
        return {"n": 0, "consistency": None, "first_shown_share": None}
    same = sum(ab == ba for ab, ba in both)
    # shown first: A when asked A-first, B when asked B-first
    decisive = [(ab, ba) for ab, ba in both]
    first = sum(ab == "a" for ab, _ in decisive) + sum(ba == "b" for _, ba in decisive)
    sided = sum(ab in ("a", "b") for ab, _ in decisive) + sum(
        ba in ("a", "b") for _, ba in decisive
    )
    return {
        "n": len(both),
        "consistency": same / len(both),
        "first_shown_share": first / sided if sided else None,
    }


def longer_share(
    choice: Sequence[str], len_a: Sequence[int], len_b: Sequence[int]
) -> dict[str, Any]:
    """How often a decisive answer (A or B) prefers the longer response, over pairs whose two
    responses differ in length: 0.5 is no lean, above it a lean towards length."""
    n = longer = 0
    for c, la, lb in zip(choice, len_a, len_b, strict=True):
        if c not in ("a", "b") or la == lb:
            continue
        n += 1
        longer += (c == "a") == (la > lb)
    return {"n": n, "share": longer / n if n else None}
