"""Flags on step-labelled solutions, for review: where the human labels, the step model and
the final answer do not fit together. Thresholds in StepFlagConfig, stored with each run.

- ``first_error_far``: the human first error and the step model's are at least `far_steps`
  apart. "No wrong step" (-1) sits just past the last step, so a human "all right" against a
  model error at the first of five steps is five apart, at the last step one apart.
- ``final_answer_contradiction``: every step labelled right but the final answer is wrong
  (``steps_right_answer_wrong``: some wrong step went unseen), or a step labelled wrong but
  the final answer is right (``step_wrong_answer_right``: a real slip that the solution
  recovered from, or a step wrongly labelled bad). ProcessBench keeps the second kind as
  data; either is worth a second look.
- ``outlying_annotator``: an annotator whose share of step labels that differ from the
  aggregate is far above the others' (robustly: above the median share by more than
  `annotator_mads` scaled median absolute deviations, and by at least `annotator_min_gap`),
  over at least `annotator_min_steps` steps that others labelled too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StepFlagConfig:
    # Steps between the human and the model first error that make them "far".
    far_steps: int = 2
    # Scaled MADs above the median disagreement share that make an annotator an outlier.
    annotator_mads: float = 3.0
    # ...and at least this much above the median share (a tight crowd has a tiny MAD).
    annotator_min_gap: float = 0.1
    # Steps, labelled by others too, an annotator needs before being judged.
    annotator_min_steps: int = 20

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def error_position(first_error: int, n_steps: int) -> int:
    """Where a first error sits on one line: its step, or n_steps for "none wrong"."""
    return n_steps if first_error == -1 else first_error


def first_error_far(*, human: int, model: int, n_steps: int, far_steps: int) -> bool:
    gap = abs(error_position(human, n_steps) - error_position(model, n_steps))
    return gap >= far_steps


def final_answer_contradiction(
    *, first_error: int | None, final_answer_correct: bool | None
) -> str | None:
    """Which way the step labels and the final answer disagree, or None."""
    if first_error is None or final_answer_correct is None:
        return None
    if first_error == -1 and not final_answer_correct:
        return "steps_right_answer_wrong"
    if first_error >= 0 and final_answer_correct:
        return "step_wrong_answer_right"
    return None


def outlying_annotators(
    disagreement: Mapping[int, tuple[int, float]], *, config: StepFlagConfig
) -> dict[int, dict[str, float]]:
    """The annotators to flag, from {worker: (steps compared, share differing from the
    aggregate)}: {worker: {"disagree_share", "median_share", "steps"}}."""
    judged = {w: (n, s) for w, (n, s) in disagreement.items() if n >= config.annotator_min_steps}
    if len(judged) < 3:  # an outlier needs a crowd to stand out from
        return {}
    shares = np.array([s for _, s in judged.values()])
    median = float(np.median(shares))
    mad = 1.4826 * float(np.median(np.abs(shares - median)))
    bar = median + max(config.annotator_mads * mad, config.annotator_min_gap)
    return {
        w: {"disagree_share": round(s, 4), "median_share": round(median, 4), "steps": n}
        for w, (n, s) in judged.items()
        if s > bar
    }
