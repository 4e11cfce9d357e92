"""The effective step labels of a steps project's solutions: one rule, read by scoring, review
and exports (the steps counterpart of webapp/pairs/labels.py).

Per item: a reviewer's latest step decision (the review stage's ``StepDecision``, read by its
registered model name, as pairs/labels.py reads pair decisions), else the aggregate of the
answers (Dawid-Skene over the project's step labels when any item has two or more answers,
else the one answer as it is: an imported file's labels, say), else nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.apps import apps
from django.db.models import QuerySet

from webapp.labelling.models import ItemAnswer
from webapp.labelling.step_agreement import (
    aggregate_steps,
    first_error_agreement,
    step_alpha,
    step_tables,
)
from webapp.pairs.models import ItemResponse
from webapp.pairs.steps import first_error_of, steps_of
from webapp.projects.models import Project


@dataclass(frozen=True)
class StepLabel:
    labels: list[int | None]  # per step: +1, 0, -1, None
    first_error: int | None
    source: str  # "review" | "dawid_skene" | "answer" | "none"
    confidence: float | None  # the aggregate's lowest step confidence; None otherwise


@dataclass(frozen=True)
class StepItem:
    item_id: int
    problem: str
    steps: list[str]
    split: str
    external_id: str
    model: str
    final_answer_correct: bool | None


def step_items(*, project: Project) -> list[StepItem]:
    """Every solution of the project, in item order, with its steps."""
    rows: QuerySet[ItemResponse] = (
        ItemResponse.objects.filter(item__project=project, position=0)
        .select_related("response", "item__prompt")
        .order_by("item_id")
    )
    return [
        StepItem(
            item_id=r.item_id,
            problem=r.item.prompt.as_text(),
            steps=steps_of(r.response.text, r.metadata),
            split=r.item.split,
            external_id=r.item.external_id,
            model=r.response.source_model,
            final_answer_correct=r.item.metadata.get("final_answer_correct"),
        )
        for r in rows
    ]


def trainable_targets(*, items: list[StepItem], labels: dict[int, StepLabel]) -> np.ndarray:
    """(S,) what a step model trains on, over every step of ``items`` in order: 1.0 right
    (neutral counts as right), 0.0 wrong, NaN unknown, which is every step after the first
    wrong one (workers/rm/steps.py) and every step of a solution without a label."""
    targets: list[float] = []
    for item in items:
        label = labels.get(item.item_id)
        known = list(label.labels) if label is not None else []
        if -1 in known:
            known = known[: known.index(-1) + 1]
        known += [None] * (len(item.steps) - len(known))
        targets += [np.nan if v is None else float(v != -1) for v in known[: len(item.steps)]]
    return np.asarray(targets, dtype=np.float32)


def step_answers(*, project: Project) -> list[tuple[int, int, dict[str, Any]]]:
    """(item, annotator, payload) of every steps answer of the project."""
    return list(
        ItemAnswer.objects.filter(project=project, kind=ItemAnswer.Kind.STEPS)
        .order_by("item_id", "annotator_id")
        .values_list("item_id", "annotator_id", "payload")
    )


def step_labels(*, project: Project, n_steps: dict[int, int]) -> dict[int, StepLabel]:
    """The effective labels of the items in ``n_steps`` ({item: its step count})."""
    answers = step_answers(project=project)
    per_item: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item_id, _, payload in answers:
        per_item[item_id].append(payload)
    out: dict[int, StepLabel] = {}
    if any(len(v) >= 2 for v in per_item.values()):
        labels, _ = step_tables(answers)
        table = aggregate_steps(labels, method="dawid_skene")
        grouped: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
        for task, step, label, confidence in zip(
            table["task"], table["step"], table["label"], table["confidence"], strict=True
        ):
            grouped[int(task)].append((int(step), int(label), float(confidence)))
        for item_id, rows in grouped.items():
            n = n_steps.get(item_id)
            if n is None or len(per_item[item_id]) < 2:
                continue  # one answer is taken as it is, below
            steps: list[int | None] = [None] * n
            for step, label, _ in rows:
                if step < n:
                    steps[step] = label
            confidence = min(c for _, _, c in rows)
            out[item_id] = StepLabel(steps, first_error_of(steps), "dawid_skene", confidence)
    for item_id, payloads in per_item.items():
        if item_id in out or item_id not in n_steps or len(payloads) != 1:
            continue
        steps = list(payloads[0]["steps"])
        first = payloads[0].get("first_error")
        out[item_id] = StepLabel(steps, first if first is not None else first_error_of(steps),
                                 "answer", None)  # fmt: skip
    for item_id, label in _reviewed(project).items():
        if item_id in n_steps:
            out[item_id] = label
    return out


def _reviewed(project: Project) -> dict[int, StepLabel]:
    """Each item's latest step decision, where the review stage has its table."""
    name = "StepDecision"  # a variable: the review stage comes later and may not have it
    try:
        decision: Any = apps.get_model("review", name)
    except LookupError:
        return {}
    latest: dict[int, StepLabel] = {}
    rows = decision.objects.filter(project=project).order_by("item_id", "created_at", "id")
    for item_id, labels_after in rows.values_list("item_id", "labels_after"):
        steps = list(labels_after)
        latest[int(item_id)] = StepLabel(steps, first_error_of(steps), "review", None)
    return latest


def step_agreement_summary(*, project: Project) -> dict[str, Any]:
    """Per-step alpha (ordinal), first-error agreement and the answers they rest on."""
    labels, errors = step_tables(step_answers(project=project))
    return {
        "answers": int(errors[["task", "worker"]].drop_duplicates().shape[0]),
        "annotators": int(labels["worker"].nunique()) if not labels.empty else 0,
        "alpha": step_alpha(labels) if not labels.empty else None,
        "first_error": first_error_agreement(errors),
    }
