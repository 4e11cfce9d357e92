"""Writes for labelling: votes, skips, undo and gold answers. Leasing the next pair is the
queue's (webapp/labelling/queue.py); the locking order is the one written there: an
assignment row first, then at most one queue row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from webapp.dbbackend import prepared
from webapp.labelling.items import item_answers_derive
from webapp.labelling.models import (
    Assignment,
    GoldAnswer,
    ItemAnswer,
    ItemQueueItem,
    QueueItem,
    Vote,
)
from webapp.labelling.repeats import repeat_answer_store
from webapp.pairs.models import Pair
from webapp.projects.models import Project

SIDES = ("left", "right", "tie", "both_bad")


class LabellingError(ValueError):
    """A request that cannot be stored as sent (bad choice, bad strength). ``field`` names the
    part of the request at fault, for the API's errors and the page's."""

    def __init__(self, message: str, *, field: str = "choice") -> None:
        super().__init__(message)
        self.field = field


def choice_for_side(*, side: str, shown_order: str) -> str:
    """The Vote.Choice for what the annotator picked on screen. A and B are the pair's own
    response_a and response_b, whichever side each was shown on."""
    if side in ("tie", "both_bad"):
        return side
    if side not in ("left", "right"):
        raise LabellingError(f"unknown choice {side!r}")
    left, right = ("a", "b") if shown_order == Vote.Order.AB else ("b", "a")
    return left if side == "left" else right


def strength_checked(*, project: Project, choice: str, strength: int | None) -> int | None:
    """The strength to store: an index into the project's scale for A / B, none otherwise
    (a strength sent with a tie, "both bad" or to a project without a scale is dropped). An
    A / B vote without one is refused where the project requires it."""
    levels = len(project.strength_scale or [])
    if choice not in (Vote.Choice.A, Vote.Choice.B) or levels == 0:
        return None
    if strength is None:
        if not project.strength_required:
            return None
        raise LabellingError(
            f"required for an A / B vote here: how much better, an index 0..{levels - 1} into "
            "the project's strength scale",
            field="strength",
        )
    if not 0 <= strength < levels:
        raise LabellingError(
            f"must be 0..{levels - 1}, an index into the project's strength scale of "
            f"{levels} levels",
            field="strength",
        )
    return strength


VoteStatus = Literal["stored", "duplicate", "stale", "not_needed"]


@dataclass(frozen=True)
class VoteResult:
    status: VoteStatus
    vote_id: int | None = None


def queue_row_of(assignment: Assignment) -> Any:
    """The queue row (as a one-row queryset) of the unit the assignment serves: its pair's,
    or its item's."""
    if assignment.item_id is not None:
        return ItemQueueItem.objects.filter(item_id=assignment.item_id)
    # the check constraint: an assignment without an item has a pair
    return QueueItem.objects.filter(pair_id=cast(int, assignment.pair_id))


def _locked_assignment(*, project: Project, annotator: Any, token: uuid.UUID) -> Assignment:
    """The annotator's assignment, row-locked. Raises Assignment.DoesNotExist for any token
    that is not theirs in this project."""
    return Assignment.objects.select_for_update().get(
        token=token, project=project, annotator=annotator
    )


def vote_submit(
    *,
    project: Project,
    annotator: Any,
    token: uuid.UUID,
    round: int,
    side: str,
    strength: int | None = None,
    rationale: str = "",
    time_taken_ms: int | None = None,
    now: datetime | None = None,
) -> VoteResult:
    """Store the annotator's vote on the pair their assignment ``token`` serves.

    Idempotent per (token, round): a double submit or a retried request returns "duplicate"
    and stores nothing more; a request from before an undo returns "stale". A vote on a lease
    that expired is still stored if the pair wants more votes, else it is "not_needed".
    Locks the assignment row, then the pair's queue row. Raises LabellingError for a bad
    choice or strength, Assignment.DoesNotExist for someone else's token.
    """
    now = now or timezone.now()
    if side not in SIDES:
        raise LabellingError(f"unknown choice {side!r}")
    sided = side in ("left", "right")
    strength = strength_checked(project=project, choice="a" if sided else side, strength=strength)
    rationale = rationale.strip()[:5000]
    row = prepared.one_row(
        _VOTE_SQL,
        {
            "token": token,
            "project": project.pk,
            "user": annotator.pk,
            "round": round,
            "side": side,
            "sided": sided,
            "strength": strength,
            "rationale": rationale,
            "time": time_taken_ms,
            "now": now,
        },
    )
    if row is not None:
        return VoteResult("stored", int(row[0]))
    return _vote_otherwise(
        project=project,
        annotator=annotator,
        token=token,
        round=round,
        side=side,
        strength=strength,
        rationale=rationale,
        time_taken_ms=time_taken_ms,
        now=now,
    )


# The common case, a vote on a live lease of the current round, in one statement: lock the
# assignment, store the vote (its trigger counts it on the queue row), release the lease, end
# the assignment. Anything else (a retry, a stale round, an expired lease, a stranger's token)
# matches no row here and takes the slower path below, which sorts it out.
_VOTE_SQL = """
    WITH a AS (
        SELECT id, pair_id, shown_order,
            GREATEST(0, floor(extract(epoch FROM (%(now)s - served_at)) * 1000))::int AS elapsed
        FROM labelling_assignment
        WHERE token = %(token)s AND project_id = %(project)s AND annotator_id = %(user)s
          AND state = 'leased' AND round = %(round)s
          AND repeat_of_id IS NULL  -- a self-consistency repeat stores no Vote: slow path
          AND pair_id IS NOT NULL  -- an item takes an answer, not a vote: slow path refuses
        FOR UPDATE
    ), v AS (
        INSERT INTO labelling_vote (pair_id, annotator_id, choice, strength, rationale,
            shown_order, time_taken_ms, assignment_id, created_at)
        SELECT pair_id, %(user)s,
            CASE WHEN NOT %(sided)s::boolean THEN %(side)s::text
                 WHEN (%(side)s::text = 'left') = (shown_order = 'ab') THEN 'a' ELSE 'b' END,
            %(strength)s::smallint, %(rationale)s::text, shown_order,
            CASE WHEN %(time)s::int BETWEEN 0 AND elapsed THEN %(time)s::int ELSE elapsed END,
            id, %(now)s
        FROM a
        RETURNING id, pair_id, assignment_id
    ), released AS (
        UPDATE labelling_queueitem q SET leases = q.leases - 1
        FROM v WHERE q.pair_id = v.pair_id
    ), ended AS (
        UPDATE labelling_assignment s SET state = 'voted', finished_at = %(now)s
        FROM v WHERE s.id = v.assignment_id
    )
    SELECT id FROM v
"""


def _vote_otherwise(
    *,
    project: Project,
    annotator: Any,
    token: uuid.UUID,
    round: int,
    side: str,
    strength: int | None,
    rationale: str,
    time_taken_ms: int | None,
    now: datetime,
) -> VoteResult:
    """Every vote the one-statement path did not store; see vote_submit."""
    with transaction.atomic():
        assignment = _locked_assignment(project=project, annotator=annotator, token=token)
        pair_id = assignment.pair_id
        if pair_id is None:
            raise LabellingError("this serves an item: send an answer, not a vote", field="token")
        if round != assignment.round or assignment.state == Assignment.State.SKIPPED:
            return VoteResult("stale")
        if assignment.state == Assignment.State.VOTED:
            vote_id = Vote.objects.filter(assignment=assignment).values_list("pk", flat=True)
            return VoteResult("duplicate", vote_id.first())
        if assignment.repeat_of_id is not None:
            # A self-consistency repeat: its answer is kept apart from the votes, so it never
            # counts toward the pair's wanted votes nor enters aggregation.
            repeat_answer_store(
                assignment=assignment,
                choice=choice_for_side(side=side, shown_order=assignment.shown_order),
                now=now,
            )
            return VoteResult("stored")
        if assignment.state == Assignment.State.EXPIRED:
            queue = QueueItem.objects.select_for_update().get(pair_id=pair_id)
            if queue.taken >= queue.wanted:
                return VoteResult("not_needed")
        elapsed_ms = max(0, int((now - assignment.served_at).total_seconds() * 1000))
        if time_taken_ms is None or not 0 <= time_taken_ms <= elapsed_ms:
            time_taken_ms = elapsed_ms  # the page's own clock runs from display, never longer
        vote = Vote.objects.create(
            pair_id=pair_id,
            annotator=annotator,
            choice=choice_for_side(side=side, shown_order=assignment.shown_order),
            strength=strength,
            rationale=rationale,
            shown_order=assignment.shown_order,
            time_taken_ms=time_taken_ms,
            assignment=assignment,
        )
        if assignment.state == Assignment.State.LEASED:
            queue_row_of(assignment).update(leases=F("leases") - 1)
        assignment.state = Assignment.State.VOTED
        assignment.finished_at = now
        assignment.save(update_fields=["state", "finished_at"])
    return VoteResult("stored", vote.pk)


def assignment_skip(
    *, project: Project, annotator: Any, token: uuid.UUID, round: int, now: datetime | None = None
) -> bool:
    """Give the pair (or item) back without a vote; it is not served to this annotator again.
    False if there was nothing to skip (already voted or skipped, or a request from before an
    undo)."""
    now = now or timezone.now()
    with transaction.atomic():
        assignment = _locked_assignment(project=project, annotator=annotator, token=token)
        if round != assignment.round or assignment.state in (
            Assignment.State.VOTED,
            Assignment.State.SKIPPED,
        ):
            return False
        # a self-consistency repeat never held a lease on the queue row
        if assignment.state == Assignment.State.LEASED and assignment.repeat_of_id is None:
            queue_row_of(assignment).update(leases=F("leases") - 1)
        assignment.state = Assignment.State.SKIPPED
        assignment.finished_at = now
        assignment.save(update_fields=["state", "finished_at"])
    return True


@dataclass(frozen=True)
class Undone:
    assignment_id: int
    side: str
    strength: int | None
    rationale: str
    payload: dict[str, Any] | None = None  # an answer on an item: the one taken back


def vote_undo(*, project: Project, annotator: Any, now: datetime | None = None) -> Undone | None:
    """Take back the annotator's latest vote in the project: the vote is deleted and its pair
    is leased to them again (a new round, so a late retry of the old vote is stale). None if
    they have no vote cast here to undo."""
    now = now or timezone.now()
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update()
            # a self-consistency repeat's answer is not a vote: undo passes over it
            .filter(
                project=project,
                annotator=annotator,
                state=Assignment.State.VOTED,
                repeat_of__isnull=True,
            )
            .order_by("-finished_at")
            .first()
        )
        if assignment is None:
            return None
        if assignment.item_id is not None:
            return _answer_undo(project=project, assignment=assignment, now=now)
        vote = Vote.objects.filter(assignment=assignment).first()
        Vote.objects.filter(assignment=assignment).delete()
        _lease_again(project=project, assignment=assignment, now=now)
    side = ""
    if vote is not None:
        side = vote.choice
        if vote.choice in (Vote.Choice.A, Vote.Choice.B):
            left = "a" if assignment.shown_order == Vote.Order.AB else "b"
            side = "left" if vote.choice == left else "right"
    return Undone(
        assignment_id=assignment.pk,
        side=side,
        strength=vote.strength if vote else None,
        rationale=vote.rationale if vote else "",
    )


def _lease_again(*, project: Project, assignment: Assignment, now: datetime) -> None:
    queue_row_of(assignment).update(leases=F("leases") + 1)
    assignment.state = Assignment.State.LEASED
    assignment.round += 1
    assignment.served_at = now
    assignment.expires_at = now + timedelta(minutes=project.lease_minutes)
    assignment.finished_at = None
    assignment.save(update_fields=["state", "round", "served_at", "expires_at", "finished_at"])


def _answer_undo(*, project: Project, assignment: Assignment, now: datetime) -> Undone:
    """vote_undo for an item: its answer and the votes it derived go, its pairs' margins follow.
    The caller holds the assignment's row lock."""
    answer = ItemAnswer.objects.filter(assignment=assignment).first()
    payload = answer.payload if answer else None
    ItemAnswer.objects.filter(assignment=assignment).delete()  # its derived votes with it
    item_answers_derive(project=project, item_ids=[cast(int, assignment.item_id)])
    _lease_again(project=project, assignment=assignment, now=now)
    return Undone(
        assignment_id=assignment.pk, side="", strength=None, rationale="", payload=payload
    )


def gold_set(*, pair: Pair, choice: str, note: str = "", created_by: Any = None) -> GoldAnswer:
    """Mark a pair's known answer (replacing an earlier one)."""
    if choice not in Vote.Choice.values:
        raise LabellingError(f"unknown answer {choice!r}")
    gold, _ = GoldAnswer.objects.update_or_create(
        pair=pair,
        defaults={
            "project_id": pair.project_id,
            "choice": choice,
            "note": note,
            "created_by": created_by,
        },
    )
    return gold


def gold_remove(*, project: Project, pair_id: int) -> int:
    deleted, _ = GoldAnswer.objects.filter(project=project, pair_id=pair_id).delete()
    return deleted
