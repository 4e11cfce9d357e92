"""An annotator's answer on an item served to them: the order the item is shown in, and the
write. Leasing, skipping and undo are the queue's and services' as for pairs; the locking
order is theirs too (the assignment row first, then the item's queue row).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from webapp.labelling.items import item_answers_derive
from webapp.labelling.models import Assignment, ItemAnswer, ItemQueueItem
from webapp.labelling.payloads import PayloadError, kind_asked, payload_clean
from webapp.labelling.repeats import repeat_answer_store
from webapp.labelling.services import LabellingError, VoteResult
from webapp.pairs.models import ItemResponse
from webapp.pairs.steps import steps_of
from webapp.projects.models import Project
from webapp.projects.schemes import SchemeSettings, labels_items, scheme_settings_of


def shown_positions(
    *, token: uuid.UUID, positions: list[int], kind: str, settings: SchemeSettings
) -> list[int]:
    """The item's positions in the order this assignment shows them: a random order drawn from
    the assignment's token, so it is blind (position 0 is not always first), the same on every
    reload and for the page and the API alike. Best-worst shows the first ``best_worst_shown``."""
    order = sorted(positions)
    random.Random(token.int).shuffle(order)
    if kind == "best_worst" and settings.best_worst_shown:
        order = order[: settings.best_worst_shown]
    return order


def item_positions(*, item_id: int) -> list[int]:
    return list(
        ItemResponse.objects.filter(item_id=item_id)
        .order_by("position")
        .values_list("position", flat=True)
    )


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
) -> VoteResult:
    """Store the annotator's answer on the item their assignment ``token`` serves, and derive
    its votes on the item's pairs, in one transaction.

    Idempotent per (token, round) as votes are: a retry is "duplicate", a request from before
    an undo "stale", an answer on an expired lease of an item that has all its answers
    "not_needed". Raises LabellingError (its field names the bad part of the payload) and
    Assignment.DoesNotExist for someone else's token."""
    now = now or timezone.now()
    if not labels_items(project):
        raise LabellingError("this project labels pairs: send a vote", field="token")
    settings = scheme_settings_of(project)
    kind = kind_asked(scheme=project.label_scheme, settings=settings)
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(
            token=token, project=project, annotator=annotator
        )
        item_id = assignment.item_id
        if item_id is None:
            raise LabellingError("this serves a pair: send a vote, not an answer", field="token")
        if round != assignment.round or assignment.state == Assignment.State.SKIPPED:
            return VoteResult("stale")
        if assignment.state == Assignment.State.VOTED:
            answer_id = ItemAnswer.objects.filter(assignment=assignment).values_list(
                "pk", flat=True
            )
            return VoteResult("duplicate", answer_id.first())
        positions = item_positions(item_id=item_id)
        shown = shown_positions(
            token=assignment.token, positions=positions, kind=kind, settings=settings
        )
        try:
            clean = payload_clean(
                kind=kind,
                payload=payload,
                positions=positions,
                settings=settings,
                n_steps=item_step_count(item_id=item_id) if kind == "steps" else None,
            )
        except PayloadError as e:
            raise LabellingError(e.message, field=f"payload.{e.field}") from None
        if kind == "best_worst" and clean["shown"] != sorted(shown):
            raise LabellingError(
                "must be the responses this assignment shows", field="payload.shown"
            )
        if assignment.repeat_of_id is not None:
            # A self-consistency repeat (webapp/labelling/repeats.py): kept apart from the
            # answers, it counts toward no item's wanted answers and derives no votes.
            repeat_answer_store(assignment=assignment, now=now, kind=kind, payload=clean)
            return VoteResult("stored")
        if assignment.state == Assignment.State.EXPIRED:
            queue = ItemQueueItem.objects.select_for_update().get(item_id=item_id)
            if queue.taken >= queue.wanted:
                return VoteResult("not_needed")
        elapsed_ms = max(0, int((now - assignment.served_at).total_seconds() * 1000))
        if time_taken_ms is None or not 0 <= time_taken_ms <= elapsed_ms:
            time_taken_ms = elapsed_ms
        answer = ItemAnswer.objects.create(
            item_id=item_id,
            project=project,
            annotator=annotator,
            kind=kind,
            payload=clean,
            shown_order=shown,
            time_taken_ms=time_taken_ms,
            assignment=assignment,
        )
        if assignment.state == Assignment.State.LEASED:
            ItemQueueItem.objects.filter(item_id=item_id).update(leases=F("leases") - 1)
        assignment.state = Assignment.State.VOTED
        assignment.finished_at = now
        assignment.save(update_fields=["state", "finished_at"])
        item_answers_derive(project=project, item_ids=[item_id])
    return VoteResult("stored", answer.pk)
