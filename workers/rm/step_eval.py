"""What per-step P(correct) says about whole solutions, and how well it finds first errors.

Solution scores, as the process-reward papers compare them: `min` over the steps (a solution
is as good as its worst step: "Stop Summation"), `product` (the probability that every step is
right, were they independent), `last` (the last step's score alone, as outcome-style scoring
does).

First-error evaluation as ProcessBench defines it: a prediction is the index of the first
wrong step, or -1 for "every step is right"; accuracy is counted apart on the solutions with an
error and on those without, and F1 is their harmonic mean, so that answering "all correct"
everywhere (or flagging the first step everywhere) scores 0 rather than the share of one kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

Aggregation = Literal["min", "product", "last"]
AGGREGATIONS: tuple[Aggregation, ...] = ("min", "product", "last")


def solution_scores(per_step: Sequence[np.ndarray], how: Aggregation) -> np.ndarray:
    """(N,) one score per solution from each solution's (n_i,) P(correct)."""
    if how == "min":
        return np.array([float(p.min()) for p in per_step])
    if how == "product":
        return np.array([float(np.prod(p, dtype=np.float64)) for p in per_step])
    if how == "last":
        return np.array([float(p[-1]) for p in per_step])
    raise ValueError(f"unknown aggregation {how!r}; expected one of {', '.join(AGGREGATIONS)}")


def first_error(p_correct: np.ndarray, *, threshold: float) -> int:
    """The first step whose P(correct) is below `threshold`, or -1 when none is."""
    below = np.flatnonzero(np.asarray(p_correct) < threshold)
    return int(below[0]) if len(below) else -1


def first_errors(per_step: Sequence[np.ndarray], *, threshold: float) -> np.ndarray:
    return np.array([first_error(p, threshold=threshold) for p in per_step], dtype=np.int64)


def processbench_scores(
    predicted: Sequence[int] | np.ndarray, labels: Sequence[int] | np.ndarray
) -> dict[str, float]:
    """Accuracy on the erroneous solutions (the predicted first error is the labelled one), on
    the correct ones (predicted -1), and their harmonic mean F1; NaN where a kind is absent."""
    predicted_a, labels_a = np.asarray(predicted), np.asarray(labels)
    if predicted_a.shape != labels_a.shape:
        raise ValueError(f"{predicted_a.shape} predictions for {labels_a.shape} labels")
    wrong = labels_a != -1
    error_acc = float((predicted_a[wrong] == labels_a[wrong]).mean()) if wrong.any() else np.nan
    correct_acc = float((predicted_a[~wrong] == -1).mean()) if (~wrong).any() else np.nan
    if np.isnan(error_acc) or np.isnan(correct_acc) or error_acc + correct_acc == 0:
        f1 = np.nan if np.isnan(error_acc) or np.isnan(correct_acc) else 0.0
    else:
        f1 = 2 * error_acc * correct_acc / (error_acc + correct_acc)
    return {
        "error_accuracy": error_acc,
        "correct_accuracy": correct_acc,
        "f1": float(f1),
        "n_error": int(wrong.sum()),
        "n_correct": int((~wrong).sum()),
    }


def all_correct_baseline(n_steps: Sequence[int] | np.ndarray) -> np.ndarray:
    """The answer "every step is right" for every solution."""
    return np.full(len(n_steps), -1, dtype=np.int64)


def random_step_baseline(n_steps: Sequence[int] | np.ndarray, *, seed: int) -> np.ndarray:
    """A first error drawn uniformly from the n + 1 answers a solution of n steps allows
    (-1 or a step), so that it is right by chance on both kinds of solution."""
    rng = np.random.default_rng(seed)
    return np.array([int(rng.integers(-1, n)) for n in n_steps], dtype=np.int64)


def best_threshold(
    per_step: Sequence[np.ndarray],
    labels: Sequence[int] | np.ndarray,
    *,
    grid: Sequence[float] | None = None,
) -> float:
    """The threshold on P(correct) with the highest first-error F1 on these solutions: to be
    chosen on solutions that are not the ones it is then evaluated on."""
    grid = grid if grid is not None else [round(t, 2) for t in np.arange(0.05, 0.96, 0.05)]
    best, best_f1 = 0.5, -1.0
    for t in grid:
        f1 = processbench_scores(first_errors(per_step, threshold=t), labels)["f1"]
        if np.isfinite(f1) and f1 > best_f1:
            best, best_f1 = float(t), f1
    return best
