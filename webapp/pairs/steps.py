"""A solution as steps: how the `steps` scheme keeps one in an Item.

An item of a steps project has one response (position 0), the solution: its steps joined by a
blank line, stored once as an ordinary Response, and the span of each step in that text kept
in the ItemResponse's metadata (``{"step_spans": [[start, end], ...]}``), so a step's text is
never stored twice. The item's metadata holds what is known about the answer:
``final_answer``, ``reference_answer`` and ``final_answer_correct`` (true, false or null).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SEPARATOR = "\n\n"


def solution_text(steps: Sequence[str]) -> tuple[str, list[list[int]]]:
    """The solution's text and each step's [start, end) in it."""
    spans, start = [], 0
    for step in steps:
        spans.append([start, start + len(step)])
        start += len(step) + len(SEPARATOR)
    return SEPARATOR.join(steps), spans


def steps_of(text: str, metadata: Mapping[str, Any]) -> list[str]:
    """The steps of a solution from its text and its ItemResponse metadata; the whole text as
    one step when no spans were kept."""
    spans = metadata.get("step_spans")
    if not spans:
        return [text]
    return [text[start:end] for start, end in spans]


def first_error_of(steps: Sequence[int | None]) -> int | None:
    """The first step labelled -1; -1 when every step is labelled and none is bad; None when
    some step before any bad one is unlabelled."""
    for i, label in enumerate(steps):
        if label == -1:
            return i
        if label is None:
            return None
    return -1 if steps else None


def labels_from_first_error(n_steps: int, first_error: int | None) -> list[int | None]:
    """Per-step labels that a first-error label implies: right before it, wrong at it,
    unknown after it (-1: all right; None: nothing known)."""
    if first_error is None:
        return [None] * n_steps
    if first_error == -1:
        return [1] * n_steps
    return [1] * first_error + [-1] + [None] * (n_steps - first_error - 1)
