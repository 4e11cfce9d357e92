"""ParsedSteps, and the checks the fields of a step-by-step solution go through: its steps, the
index of its first wrong step, per-step ratings, its final answer's flags (steps.py reads the
formats with them, as fields.py's checks serve the pair formats). Pure Python, no Django.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from webapp.imports.containers import kind_of
from webapp.imports.fields import Bad, show, text


@dataclass(slots=True)
class ParsedSteps:
    line: int  # 1-based line of the record's first character
    problem: str
    steps: list[str]  # the solution, one text per step, in order
    # 0-based index of the first wrong step; -1: every step is right; None: not labelled.
    first_error: int | None
    # Per step: +1 good, 0 neutral, -1 bad, None not rated; [] when the file rates no step.
    ratings: list[int | None] = field(default_factory=list)
    annotator: str = ""  # who gave `ratings` / `first_error`, where the file names them
    final_answer: str = ""  # the solution's own answer, where given
    reference_answer: str = ""  # the known right answer, where given
    final_answer_correct: bool | None = None
    external_id: str = ""
    split: str = ""
    model: str = ""  # the model that wrote the solution, if known
    metadata: dict[str, Any] = field(default_factory=dict)  # every other field, JSON-safe


def steps_of(value: Any, field: str) -> list[str]:
    if type(value) is not list:
        raise Bad(field, f"expected a list of steps, got {kind_of(value)}")
    if not value:
        raise Bad(field, "the solution has no steps")
    out = []
    for i, step in enumerate(value, 1):
        if type(step) is not str:
            raise Bad(field, f"step {i}: expected a string, got {kind_of(step)}")
        try:
            out.append(text(step, field))
        except Bad as e:
            raise Bad(field, f"step {i}: {e.reason}") from None
    return out


def step_index_of(value: Any, field: str, n_steps: int, *, none_means: int | None) -> int | None:
    """A 0-based first wrong step, -1 for none; null becomes `none_means`."""
    if value is None:
        return none_means
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int:
        raise Bad(field, f"expected a step index (an integer), got {kind_of(value)}")
    if not -1 <= value < n_steps:
        raise Bad(
            field,
            f"step index {value} is out of range: the solution has {n_steps} steps "
            f"(0 to {n_steps - 1}, or -1 for none wrong)",
        )
    return value


def rating_of(value: Any, field: str, step: int) -> int | None:
    """-1 / 0 / +1, or a boolean as in the stepwise layout (True good, False bad)."""
    if value is None:
        return None
    if type(value) is bool:
        return 1 if value else -1
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int or value not in (-1, 0, 1):
        raise Bad(
            field, f"step {step}: expected a rating of -1, 0, 1 or a boolean, got {show(value)}"
        )
    return int(value)


def answers_agree(answer: str, reference: str) -> bool | None:
    """Whether two final answers are the same: sure when the texts are equal or both are
    plain numbers; None otherwise ("0.5" against "\\frac{1}{2}" needs a grader we lack)."""
    if not answer or not reference:
        return None
    if answer == reference:
        return True
    try:
        return math.isclose(float(answer.replace(",", "")), float(reference.replace(",", "")))
    except ValueError:
        return None


def flag_of(value: Any, field: str) -> bool | None:
    if value is None or type(value) is bool:
        return value
    raise Bad(field, f"expected true, false or null, got {kind_of(value)}")
