"""An annotator's answer on an item leased from the queue (``queue.item_assignment_next``): the
item counterpart of ``services.vote_submit``, for every scheme that labels items.

Locking order as in services.py: the assignment row first, then the item's queue row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from webapp.labelling.items import item_answers_derive
from webapp.labelling.models import Assignment, ItemAnswer, ItemQueueItem
from webapp.labelling.payloads import PayloadError, kind_asked, payload_clean
from webapp.labelling.services import LabellingError, _locked_assignment
from webapp.pairs.models import ItemResponse
from webapp.pairs.steps import steps_of
from webapp.projects.models import Project
from webapp.projects.schemes import scheme_settings_of


@dataclass(frozen=True)
class AnswerResult:
    status: str  # "stored" | "stale" (skipped, or from before a reload) | "not_needed"
    answer_id: int | None = None


def item_step_count(*, item_id: int) -> int:
    """The number of steps of a steps item's solution (its one response)."""
    response = ItemResponse.objects.select_related("response").get(item_id=item_id, position=0)
    return len(steps_of(response.response.text, response.metadata))


def item_answer_submit(
    *,
    project: Project,
    annotator: Any,
    token: uuid.UUID,
    round: int,
    payload: Any,
    time_taken_ms: int | None = None,
    now: datetime | None = None,
) -> AnswerResult:
    """Store the annotator's answer on their leased item, in the kind the project asks for.
    A second submit of the same assignment stores nothing more. Raises LabellingError (a bad
    payload: its field) and Assignment.DoesNotExist (not their token)."""
    now = now or timezone.now()
    with transaction.atomic():
        assignment = _locked_assignment(project=project, annotator=annotator, token=token)
        item_id = assignment.item_id
        if item_id is None:
            raise LabellingError("this serves a pair: send a vote, not an answer", field="token")
        if round != assignment.round or assignment.state == Assignment.State.SKIPPED:
            return AnswerResult("stale")
        if assignment.state == Assignment.State.VOTED:
            return AnswerResult("stored")
        if assignment.state == Assignment.State.EXPIRED:
            queue = ItemQueueItem.objects.select_for_update().get(item_id=item_id)
            if queue.taken >= queue.wanted:
                return AnswerResult("not_needed")
        settings = scheme_settings_of(project)
        kind = kind_asked(scheme=project.label_scheme, settings=settings)
        positions = list(
            ItemResponse.objects.filter(item_id=item_id).values_list("position", flat=True)
        )
        try:
            cleaned = payload_clean(
                kind=kind,
                payload=payload,
                positions=positions,
                settings=settings,
                n_steps=item_step_count(item_id=item_id) if kind == "steps" else None,
            )
        except PayloadError as exc:
            raise LabellingError(exc.message, field=exc.field) from None
        elapsed_ms = max(0, int((now - assignment.served_at).total_seconds() * 1000))
        if time_taken_ms is None or not 0 <= time_taken_ms <= elapsed_ms:
            time_taken_ms = elapsed_ms
        answer = ItemAnswer.objects.create(
            item_id=item_id,
            project=project,
            annotator=annotator,
            kind=kind,
            payload=cleaned,
            shown_order=positions,
            time_taken_ms=time_taken_ms,
            assignment=assignment,
        )
        if assignment.state == Assignment.State.LEASED:
            ItemQueueItem.objects.filter(item_id=item_id).update(leases=F("leases") - 1)
        assignment.state = Assignment.State.VOTED
        assignment.finished_at = now
        assignment.save(update_fields=["state", "finished_at"])
        item_answers_derive(project=project, item_ids=[item_id])
    return AnswerResult("stored", answer.pk)
