"""Review of a steps project's flagged solutions: the queue of items the latest step run
flagged, one item's steps with the human and model labels side by side, and the decisions.

A decision keeps the labels in force or sets new ones (every step, or a first error: right
before it, wrong at it, unknown after it); it is appended to the log (StepDecision, which the
database refuses to update) with the labels it replaced, and the effective labels
(webapp/labelling/step_labels.py) read the latest one from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from webapp.flags.models import Flag
from webapp.labelling.models import ItemAnswer
from webapp.labelling.step_labels import StepLabel, step_labels
from webapp.pairs.models import Item, ItemResponse
from webapp.pairs.steps import labels_from_first_error, steps_of
from webapp.projects.models import Project
from webapp.review.models import StepDecision
from webapp.scoring.models import ScoringRun, StepScore


class StepReviewError(ValueError):
    pass


def latest_step_run(*, project: Project) -> ScoringRun | None:
    return (
        ScoringRun.objects.filter(project=project, complete=True).order_by("-finished_at").first()
    )


def step_review_queue(
    *, project: Project, kind: str = "", limit: int = 200
) -> list[dict[str, Any]]:
    """The flagged items of the latest step run, most severe first, with their flags and
    whether a reviewer decided on them since; bounded."""
    run = latest_step_run(project=project)
    if run is None:
        return []
    flags = Flag.objects.filter(scoring_run=run, item__isnull=False)
    if kind:
        flags = flags.filter(kind=kind)
    rows: dict[int, dict[str, Any]] = {}
    for flag in flags.order_by("-severity", "item_id").values("item_id", "kind", "severity"):
        row = rows.setdefault(flag["item_id"], {"item_id": flag["item_id"], "kinds": []})
        row["kinds"].append(Flag.Kind(flag["kind"]).label)
        row["severity"] = max(row.get("severity", 0), flag["severity"])
    decided = set(
        StepDecision.objects.filter(project=project, item_id__in=list(rows)).values_list(
            "item_id", flat=True
        )
    )
    out = sorted(rows.values(), key=lambda r: (-r["severity"], r["item_id"]))[:limit]
    for row in out:
        row["decided"] = row["item_id"] in decided
    return out


@dataclass(frozen=True)
class StepRow:
    index: int
    text: str
    effective: int | None
    by_annotator: list[int | None]
    p_correct: float | None


def step_review_item(*, project: Project, item_id: int) -> dict[str, Any]:
    """Everything the item's review page shows. Raises Item.DoesNotExist."""
    item = Item.objects.select_related("prompt").get(project=project, pk=item_id)
    response = ItemResponse.objects.select_related("response").get(item=item, position=0)
    steps = steps_of(response.response.text, response.metadata)
    label = step_labels(project=project, n_steps={item.pk: len(steps)}).get(item.pk)
    answers = list(
        ItemAnswer.objects.filter(item=item, kind=ItemAnswer.Kind.STEPS)
        .select_related("annotator")
        .order_by("annotator__username")
    )
    run = latest_step_run(project=project)
    score = StepScore.objects.filter(run=run, item=item).first() if run else None
    rows = [
        StepRow(
            index=i,
            text=text,
            effective=label.labels[i] if label else None,
            by_annotator=[(a.payload.get("steps") or [None] * len(steps))[i] for a in answers],
            p_correct=score.p_correct[i] if score and i < len(score.p_correct) else None,
        )
        for i, text in enumerate(steps)
    ]
    return {
        "item": item,
        "problem": item.prompt.as_text(),
        "rows": rows,
        "annotators": [a.annotator.get_username() for a in answers],
        "label": label,
        "score": score,
        "flags": list(Flag.objects.filter(item=item, scoring_run=run)) if run else [],
        "decisions": list(
            StepDecision.objects.filter(item=item).select_related("reviewer").order_by("-id")
        ),
        "final_answer_correct": item.metadata.get("final_answer_correct"),
    }


def step_decision_record(
    *,
    project: Project,
    item_id: int,
    reviewer: Any,
    outcome: str,
    first_error: int | None = None,
    labels: list[int | None] | None = None,
    reason: str = "",
) -> StepDecision:
    """Append a decision on the item: ``keep`` the labels in force, or ``set`` them from
    ``labels`` (one per step) or from ``first_error`` (-1: all right). Locks the item row, so
    two reviewers' decisions on one item are ordered."""
    with transaction.atomic():
        item = Item.objects.select_for_update().get(project=project, pk=item_id)
        response = ItemResponse.objects.select_related("response").get(item=item, position=0)
        n = len(steps_of(response.response.text, response.metadata))
        current: StepLabel | None = step_labels(project=project, n_steps={item.pk: n}).get(item.pk)
        before = list(current.labels) if current else [None] * n
        if outcome == StepDecision.Outcome.KEEP:
            after = before
        elif outcome == StepDecision.Outcome.SET:
            if labels is not None:
                if len(labels) != n or any(v not in (1, 0, -1, None) for v in labels):
                    raise StepReviewError(f"labels: one of 1, 0, -1 or null per step ({n})")
                after = list(labels)
            elif first_error is not None and -1 <= first_error < n:
                after = labels_from_first_error(n, first_error)
            else:
                raise StepReviewError(f"first error: -1 or a step from 0 to {n - 1}")
        else:
            raise StepReviewError(f"unknown outcome {outcome!r}")
        run = latest_step_run(project=project)
        flag = Flag.objects.filter(item=item, scoring_run=run).order_by("-severity").first()
        return StepDecision.objects.create(
            project=project,
            item=item,
            reviewer=reviewer,
            outcome=outcome,
            labels_before=before,
            labels_after=after,
            reason=reason[:5000],
            flag=flag,
            scoring_run_id=run.pk if run else None,
        )
