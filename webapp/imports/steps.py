"""Step-by-step solutions: a problem, its solution as a list of steps, and what is known about
which step goes wrong first. The `steps` label scheme's case of the import formats.

Formats (each record becomes a ParsedSteps, or a RecordError naming the field at fault):

- `processbench`: `{id, generator, problem, steps[], final_answer_correct, label}`; `label` is
  the 0-based index of the first wrong step, -1 when every step is right.
- `bbm` (BIG-Bench-Mistake): `{input, steps[], target, answer, mistake_index}`; a null
  `mistake_index` means no mistake.
- `prm800k`: one labeller's pass over one solution: per step the completions they were shown,
  each rated -1 / 0 / +1, and the one they chose to go on with; a step with none chosen ends
  the solution (at its first completion rated -1, if any: the error they found).
- `stepwise`: the stepwise supervision layout (`prompt`, `completions` = the steps, `labels`
  = one boolean or -1/0/1 per step), which PrefLab's own step exports are written in.
- the `mapping` format with a `steps` target (StepMapping): any columns, named by the caller.

step_fields.py holds ParsedSteps and the checks on its fields.

Pure Python, no Django (see formats.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.imports.containers import FormatError, kind_of
from webapp.imports.fields import (
    MAX_MODEL,
    MAX_RATER,
    MAX_SPLIT,
    Bad,
    get,
    ident,
    json_safe,
    metadata,
    rater_of,
    short,
    show,
    text,
)
from webapp.imports.step_fields import (
    ParsedSteps,
    answers_agree,
    flag_of,
    rating_of,
    step_index_of,
    steps_of,
)
from webapp.pairs.steps import first_error_of

STEP_FORMATS = ("processbench", "bbm", "prm800k", "stepwise")


# --- processbench ---------------------------------------------------------------------------

_PB_USED = frozenset({"id", "generator", "problem", "steps", "final_answer_correct", "label"})


def parse_processbench(line: int, record: dict[str, Any]) -> ParsedSteps:
    steps = steps_of(get(record, "steps"), "steps")
    return ParsedSteps(
        line,
        text(get(record, "problem"), "problem"),
        steps,
        step_index_of(get(record, "label"), "label", len(steps), none_means=None),
        final_answer_correct=flag_of(record.get("final_answer_correct"), "final_answer_correct"),
        external_id=ident(record.get("id"), "id"),
        model=short(
            text(record.get("generator"), "generator", required=False), "generator", MAX_MODEL
        ),
        metadata=metadata(record, _PB_USED),
    )


# --- bbm: BIG-Bench-Mistake -----------------------------------------------------------------

_BBM_USED = frozenset({"input", "steps", "target", "answer", "mistake_index"})


def parse_bbm(line: int, record: dict[str, Any]) -> ParsedSteps:
    steps = steps_of(get(record, "steps"), "steps")
    target = text(record.get("target"), "target", required=False).strip()
    answer = text(record.get("answer"), "answer", required=False).strip()
    return ParsedSteps(
        line,
        text(get(record, "input"), "input"),
        steps,
        step_index_of(get(record, "mistake_index"), "mistake_index", len(steps), none_means=-1),
        final_answer=answer,
        reference_answer=target,
        final_answer_correct=(answer == target) if answer and target else None,
        metadata=metadata(record, _BBM_USED),
    )


# --- prm800k --------------------------------------------------------------------------------

_PRM_USED = frozenset({"labeler", "question", "label"})


def _prm_step(step: Any, where: str, number: int) -> tuple[str, int | None, bool]:
    """One labelled step: (text, rating, whether the solution goes on after it)."""
    if type(step) is not dict:
        raise Bad(where, f"expected an object, got {kind_of(step)}")
    completions = get(step, "completions") if "completions" in step else None
    if type(completions) is not list or not completions:
        raise Bad(f"{where}.completions", "expected a non-empty list of completions")
    for j, completion in enumerate(completions):
        if type(completion) is not dict:
            got = kind_of(completion)
            raise Bad(f"{where}.completions[{j}]", f"expected an object, got {got}")
    chosen = step.get("chosen_completion")
    human = step.get("human_completion")
    if type(chosen) is int and type(chosen) is not bool:
        if not 0 <= chosen < len(completions):
            raise Bad(
                f"{where}.chosen_completion",
                f"{chosen} is out of range: the step has {len(completions)} completions",
            )
        picked, at = completions[chosen], f"{where}.completions[{chosen}]"
        goes_on = True
    elif chosen is not None:
        raise Bad(f"{where}.chosen_completion", f"expected an integer or null, got {show(chosen)}")
    elif type(human) is dict:  # the labeller wrote the step themselves
        picked, at, goes_on = human, f"{where}.human_completion", True
    else:
        bad = [j for j, c in enumerate(completions) if c.get("rating") == -1]
        if not bad:
            return "", None, False  # they stopped here without finding an error
        picked, at, goes_on = completions[bad[0]], f"{where}.completions[{bad[0]}]", False
    step_text = text(picked.get("text"), f"{at}.text")
    return step_text, rating_of(picked.get("rating"), f"{at}.rating", number), goes_on


def parse_prm800k(line: int, record: dict[str, Any]) -> ParsedSteps:
    question, label = get(record, "question"), get(record, "label")
    if type(question) is not dict:
        raise Bad("question", f"expected an object, got {kind_of(question)}")
    if type(label) is not dict:
        raise Bad("label", f"expected an object, got {kind_of(label)}")
    labelled = label.get("steps")
    if type(labelled) is not list or not labelled:
        raise Bad("label.steps", "expected a non-empty list of steps")
    steps: list[str] = []
    ratings: list[int | None] = []
    for i, step in enumerate(labelled):
        step_text, rating, goes_on = _prm_step(step, f"label.steps[{i}]", i + 1)
        if step_text:
            steps.append(step_text)
            ratings.append(rating)
        if not goes_on:
            break
    if not steps:
        raise Bad("label.steps", "no step was chosen or rated")
    finish = label.get("finish_reason")
    first_error = first_error_of(ratings)
    if first_error == -1 and finish != "solution":
        first_error = None  # they gave up or stopped: the rest of the solution is unlabelled
    pre_steps = question.get("pre_generated_steps")
    reference = text(
        question.get("ground_truth_answer"), "question.ground_truth_answer", required=False
    )
    answer = ""
    correct = None
    if type(pre_steps) is list and pre_steps[: len(steps)] == steps:
        # The generated solution as it was (cut where the labeller stopped): its answer is
        # this solution's.
        answer = text(
            question.get("pre_generated_answer"), "question.pre_generated_answer", required=False
        ).strip()
        correct = answers_agree(answer, reference.strip())
    extra = {k: json_safe(v, "question") for k, v in question.items() if k in _PRM_QUESTION_KEPT}
    extra |= {
        k: json_safe(v, "label") for k, v in label.items() if k in ("finish_reason", "total_time")
    }
    return ParsedSteps(
        line,
        text(get(question, "problem"), "question.problem"),
        steps,
        first_error,
        ratings,
        annotator=rater_of(record.get("labeler"), "labeler"),
        final_answer=answer.strip(),
        reference_answer=reference.strip(),
        final_answer_correct=correct,
        metadata=metadata(record, _PRM_USED) | extra,
    )


_PRM_QUESTION_KEPT = frozenset({"ground_truth_solution", "pre_generated_verifier_score"})


# --- stepwise supervision layout, and the mapping format's step case ------------------------

_STEP_TARGETS = (
    "prompt",
    "steps",
    "first_error",
    "step_labels",
    "final_answer",
    "reference_answer",
    "final_answer_correct",
    "id",
    "split",
    "model",
    "annotator",
)


@dataclass(frozen=True, slots=True)
class StepMapping:
    """{target: source column} for step records: prompt and steps (a list of texts) are needed;
    first_error (a 0-based index, -1 none wrong, null unlabelled) or step_labels (one of -1, 0,
    1 or a boolean per step) say where it goes wrong; the rest are optional."""

    columns: dict[str, str]
    used: frozenset[str]

    @classmethod
    def build(cls, mapping: dict[str, str], name: str) -> StepMapping:
        def fail(problem: str) -> FormatError:
            return FormatError(f"{name}: bad column mapping: {problem}")

        unknown = [t for t in mapping if t not in _STEP_TARGETS]
        if unknown:
            known = ", ".join(_STEP_TARGETS)
            raise fail(f"unknown target(s) {', '.join(map(show, unknown))}; use {known}")
        empty = [t for t, c in mapping.items() if type(c) is not str or not c]
        if empty:
            raise fail(f"{', '.join(empty)} must name a column")
        missing = [t for t in ("prompt", "steps") if t not in mapping]
        if missing:
            raise fail(f"{', '.join(missing)} missing")
        return cls(dict(mapping), frozenset(mapping.values()))

    def check_columns(self, columns: list[str], name: str) -> None:
        missing = sorted(set(self.columns.values()) - set(columns))
        if missing:
            have = ", ".join(columns[:30]) + (", ..." if len(columns) > 30 else "")
            raise FormatError(
                f"{name}: the mapping names column(s) {', '.join(missing)} that the file does not "
                f"have (it has: {have})"
            )

    def parse(self, line: int, record: dict[str, Any]) -> ParsedSteps:
        columns = self.columns

        def optional(target: str, limit: int = 0) -> str:
            column = columns.get(target)
            if not column:
                return ""
            value = ident(record.get(column), column)
            return short(value, column, limit) if limit else value

        steps = steps_of(get(record, columns["steps"]), columns["steps"])
        ratings: list[int | None] = []
        if "step_labels" in columns:
            column = columns["step_labels"]
            raw = record.get(column)
            if raw is not None:
                if type(raw) is not list:
                    raise Bad(column, f"expected a list of step labels, got {kind_of(raw)}")
                if len(raw) != len(steps):
                    raise Bad(column, f"{len(raw)} labels for {len(steps)} steps")
                ratings = [rating_of(v, column, i) for i, v in enumerate(raw, 1)]
        first_error = first_error_of(ratings) if ratings else None
        if "first_error" in columns:
            column = columns["first_error"]
            given = step_index_of(record.get(column), column, len(steps), none_means=None)
            if ratings and given is not None and first_error is not None and given != first_error:
                raise Bad(column, f"says step {given} but the step labels say {first_error}")
            first_error = given if given is not None else first_error
        correct = None
        if "final_answer_correct" in columns:
            column = columns["final_answer_correct"]
            correct = flag_of(record.get(column), column)
        prompt_column = columns["prompt"]
        return ParsedSteps(
            line,
            text(get(record, prompt_column), prompt_column),
            steps,
            first_error,
            ratings,
            annotator=optional("annotator", MAX_RATER),
            final_answer=optional("final_answer"),
            reference_answer=optional("reference_answer"),
            final_answer_correct=correct,
            external_id=optional("id"),
            split=optional("split", MAX_SPLIT),
            model=optional("model", MAX_MODEL),
            metadata=metadata(record, self.used),
        )


STEPWISE = StepMapping.build(
    {"prompt": "prompt", "steps": "completions", "step_labels": "labels"}, "stepwise"
)


def parse_stepwise(line: int, record: dict[str, Any]) -> ParsedSteps:
    """The stepwise supervision layout; its `prompt` may also be a conversation (the
    conversational form), whose last user turn is the problem."""
    prompt = record.get("prompt")
    if type(prompt) is list:
        users = [m for m in prompt if type(m) is dict and m.get("role") == "user"]
        if not users:
            raise Bad("prompt", "the conversation has no user turn")
        record = {**record, "prompt": users[-1].get("content")}
    completions = record.get("completions")
    if type(completions) is list and completions and all(type(m) is dict for m in completions):
        record = {**record, "completions": [m.get("content") for m in completions]}
    return STEPWISE.parse(line, record)


def detect_steps(keys: Any) -> str | None:
    """The step format a record's keys suggest, or None."""
    if {"problem", "steps", "label"} <= keys:
        return "processbench"
    if {"input", "steps", "mistake_index"} <= keys:
        return "bbm"
    if {"labeler", "question", "label"} <= keys:
        return "prm800k"
    if {"prompt", "completions", "labels"} <= keys:
        return "stepwise"
    return None


STEP_PARSERS = {
    "processbench": parse_processbench,
    "bbm": parse_bbm,
    "prm800k": parse_prm800k,
    "stepwise": parse_stepwise,
}
