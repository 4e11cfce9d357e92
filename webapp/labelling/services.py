"""Writes for labelling: lease the next pair, vote, skip, undo, expire leases, gold answers.

Locking order, the same everywhere, so no two of these can deadlock: an assignment row first,
then at most one queue row at a time. ``assignment_next`` locks one queue row and nothing
else; ``leases_reclaim`` takes assignment rows it can get without waiting, then queue rows, and
runs once per project at a time.
"""

from __future__ import annotations

import secrets
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from webapp.dbbackend import prepared
from webapp.labelling import ordering
from webapp.labelling.models import Assignment, GoldAnswer, QueueItem, Vote
from webapp.pairs.models import Pair
from webapp.projects.models import Project

# How often, at most, a labelling request sweeps its project's expired leases (seconds). A
# sweep also runs whenever an annotator finds nothing to do.
RECLAIM_EVERY_S = 30
RECLAIM_BATCH = 1000

SIDES = ("left", "right", "tie", "both_bad")


class LabellingError(ValueError):
    """A request that cannot be stored as sent (bad choice, bad strength)."""


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
    """The strength to store: an index into the project's scale for A / B, none otherwise."""
    levels = len(project.strength_scale or [])
    if choice not in (Vote.Choice.A, Vote.Choice.B) or levels == 0:
        return None
    if strength is None:
        raise LabellingError("choose how much better (a strength level)")
    if not 0 <= strength < levels:
        raise LabellingError(f"strength must be 0..{levels - 1}")
    return strength


def _next_sql(order_by: str) -> str:
    # One statement: pick, lock, count the lease, insert the assignment. SKIP LOCKED passes over
    # a pair another request is leasing this instant instead of queueing behind it; the lock
    # makes PostgreSQL re-check "taken < wanted" on the newest row version, so concurrent
    # requests never lease a pair beyond the votes it wants.
    return f"""
        WITH pick AS (
            SELECT q.pair_id FROM labelling_queueitem q
            WHERE q.project_id = %(project)s AND q.taken < q.wanted
              AND NOT EXISTS (SELECT 1 FROM labelling_assignment a
                              WHERE a.pair_id = q.pair_id AND a.annotator_id = %(user)s)
              AND NOT EXISTS (SELECT 1 FROM labelling_vote v
                              WHERE v.pair_id = q.pair_id AND v.annotator_id = %(user)s)
            ORDER BY {order_by}
            LIMIT 1
            FOR UPDATE OF q SKIP LOCKED
        ), counted AS (
            UPDATE labelling_queueitem q SET leases = q.leases + 1
            FROM pick WHERE q.pair_id = pick.pair_id
            RETURNING q.pair_id
        )
        INSERT INTO labelling_assignment (project_id, pair_id, annotator_id, token, round, state,
            shown_order, served_at, expires_at)
        SELECT %(project)s, pair_id, %(user)s, %(token)s, 0, 'leased', %(order)s, %(now)s,
            %(expires)s
        FROM counted
        RETURNING id
    """


def assignment_next(*, project: Project, annotator: Any, now: datetime | None = None) -> int | None:
    """Lease the next open pair to the annotator; the new assignment's id, or None if no pair
    is open for them. The side each response is shown on is drawn here, per annotator and
    pair, and kept on the assignment (and later the vote)."""
    now = now or timezone.now()
    # Self-consistency: a pair the annotator voted on a while ago, served again with A and B
    # swapped, when one is due (webapp/checks/repeats.py; off unless the project turns it on).
    from webapp.checks.repeats import repeat_next

    repeat_id = repeat_next(project=project, annotator=annotator, now=now)
    if repeat_id is not None:
        return repeat_id
    sql = _next_sql(ordering.get(project.queue_order).order_by)
    for attempt in range(3):
        params = {
            "project": project.pk,
            "user": annotator.pk,
            "token": uuid.uuid4(),
            "order": secrets.choice((Vote.Order.AB, Vote.Order.BA)).value,
            "now": now,
            "expires": now + timedelta(minutes=project.lease_minutes),
        }
        try:
            # A lease lost in a database crash costs nothing: the page asks again.
            row = _one_statement(sql, params, durable=False)
        except IntegrityError:
            # The same annotator leased this very pair in a parallel request; pick again.
            continue
        if row is not None:
            return int(row[0])
        if attempt == 0 and leases_reclaim(project=project, now=now):
            continue  # expired leases were holding the last open pairs
        return None
    return None


def _one_statement(
    sql: str, params: dict[str, Any], *, durable: bool = True
) -> tuple[Any, ...] | None:
    """Run one statement (prepared: see webapp/dbbackend/prepared.py) and return its first row.
    PostgreSQL makes a single statement atomic by itself; inside a transaction it runs under a
    savepoint, so that a failure (a unique violation, say) leaves the surrounding transaction
    usable.

    ``durable=False`` commits without waiting for the disk (asynchronous commit), for writes
    that are cheap to lose in a database crash: a lease, never a vote. Only a statement that
    is its own transaction gets it, so it can never loosen someone else's commit.
    """
    if connection.in_atomic_block or durable:
        savepoint = transaction.atomic() if connection.in_atomic_block else nullcontext()
        with savepoint, prepared.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    with transaction.atomic(), prepared.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(sql, params)
        return cursor.fetchone()


def leases_reclaim(*, project: Project, now: datetime | None = None) -> int:
    """Expire the project's leases that ran out, giving their pairs back to the queue.

    Runs in one project at a time (an advisory lock; a second caller returns 0 at once) and
    takes only the assignments nobody is voting on at this moment.
    """
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [0x1ABE1, project.pk])
        row = cursor.fetchone()
        if row is None or not row[0]:
            return 0
        cursor.execute(
            """
            WITH gone AS (
                UPDATE labelling_assignment a SET state = 'expired', finished_at = %(now)s
                WHERE a.id IN (
                    SELECT id FROM labelling_assignment
                    WHERE project_id = %(project)s AND state = 'leased' AND expires_at < %(now)s
                    ORDER BY expires_at LIMIT %(batch)s
                    FOR UPDATE SKIP LOCKED)
                RETURNING a.pair_id, a.repeat_of_id
            ), released AS (
                -- a self-consistency repeat never held a lease on the queue row
                UPDATE labelling_queueitem q SET leases = q.leases - c.n
                FROM (SELECT pair_id, count(*) AS n FROM gone WHERE repeat_of_id IS NULL
                      GROUP BY pair_id) c
                WHERE q.pair_id = c.pair_id
                RETURNING c.n
            )
            SELECT coalesce(sum(n), 0) FROM released
            """,
            {"project": project.pk, "now": now, "batch": RECLAIM_BATCH},
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def leases_reclaim_if_due(*, project: Project) -> int:
    """``leases_reclaim`` at most every RECLAIM_EVERY_S seconds per web process."""
    if cache.add(f"labelling:reclaim:{project.pk}", 1, timeout=RECLAIM_EVERY_S):
        return leases_reclaim(project=project)
    return 0


VoteStatus = Literal["stored", "duplicate", "stale", "not_needed"]


@dataclass(frozen=True)
class VoteResult:
    status: VoteStatus
    vote_id: int | None = None


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
    row = _one_statement(
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
        if round != assignment.round or assignment.state == Assignment.State.SKIPPED:
            return VoteResult("stale")
        if assignment.state == Assignment.State.VOTED:
            vote_id = Vote.objects.filter(assignment=assignment).values_list("pk", flat=True)
            return VoteResult("duplicate", vote_id.first())
        if assignment.repeat_of_id is not None:
            # A self-consistency repeat: its answer is kept apart from the votes, so it never
            # counts toward the pair's wanted votes nor enters aggregation.
            from webapp.checks.repeats import repeat_answer_store

            repeat_answer_store(
                assignment=assignment,
                choice=choice_for_side(side=side, shown_order=assignment.shown_order),
                now=now,
            )
            return VoteResult("stored")
        if assignment.state == Assignment.State.EXPIRED:
            queue = QueueItem.objects.select_for_update().get(pair_id=assignment.pair_id)
            if queue.taken >= queue.wanted:
                return VoteResult("not_needed")
        elapsed_ms = max(0, int((now - assignment.served_at).total_seconds() * 1000))
        if time_taken_ms is None or not 0 <= time_taken_ms <= elapsed_ms:
            time_taken_ms = elapsed_ms  # the page's own clock runs from display, never longer
        vote = Vote.objects.create(
            pair_id=assignment.pair_id,
            annotator=annotator,
            choice=choice_for_side(side=side, shown_order=assignment.shown_order),
            strength=strength,
            rationale=rationale,
            shown_order=assignment.shown_order,
            time_taken_ms=time_taken_ms,
            assignment=assignment,
        )
        if assignment.state == Assignment.State.LEASED:
            QueueItem.objects.filter(pair_id=assignment.pair_id).update(leases=F("leases") - 1)
        assignment.state = Assignment.State.VOTED
        assignment.finished_at = now
        assignment.save(update_fields=["state", "finished_at"])
    return VoteResult("stored", vote.pk)


def assignment_skip(
    *, project: Project, annotator: Any, token: uuid.UUID, round: int, now: datetime | None = None
) -> bool:
    """Give the pair back without a vote; it is not served to this annotator again. False if
    there was nothing to skip (already voted or skipped, or a request from before an undo)."""
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
            QueueItem.objects.filter(pair_id=assignment.pair_id).update(leases=F("leases") - 1)
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
        vote = Vote.objects.filter(assignment=assignment).first()
        Vote.objects.filter(assignment=assignment).delete()
        QueueItem.objects.filter(pair_id=assignment.pair_id).update(leases=F("leases") + 1)
        assignment.state = Assignment.State.LEASED
        assignment.round += 1
        assignment.served_at = now
        assignment.expires_at = now + timedelta(minutes=project.lease_minutes)
        assignment.finished_at = None
        assignment.save(update_fields=["state", "round", "served_at", "expires_at", "finished_at"])
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


def votes_wanted_raise(*, project: Project, pair_ids: list[int], extra: int) -> int:
    """Ask for ``extra`` more votes on each of the pairs: each then wants ``extra`` votes more
    than it wanted or has, whichever is more. One UPDATE of the pairs (their trigger moves
    the queue rows' ``wanted``); returns how many pairs it raised."""
    if extra < 1:
        raise LabellingError("ask for at least one more vote")
    if not pair_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE pairs_pair p
            SET votes_wanted = least(32767, greatest(q.wanted, q.votes) + %(extra)s)
            FROM labelling_queueitem q
            WHERE q.pair_id = p.id AND p.project_id = %(project)s AND p.id = ANY(%(ids)s)
            """,
            {"project": project.pk, "ids": list(pair_ids), "extra": extra},
        )
        return cursor.rowcount


def votes_wanted_lower(*, project: Project, pair_ids: list[int], fewer: int) -> int:
    """Take back ``fewer`` votes asked for on each of the pairs (the undo of a request for more
    votes): each then wants that many votes less, but never fewer than it has or has leased out,
    so no vote already given or being given is refused. Returns how many pairs it lowered."""
    if fewer < 1 or not pair_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE pairs_pair p
            SET votes_wanted = greatest(q.taken, q.wanted - %(fewer)s)
            FROM labelling_queueitem q
            WHERE q.pair_id = p.id AND p.project_id = %(project)s AND p.id = ANY(%(ids)s)
                AND q.wanted > q.taken
            """,
            {"project": project.pk, "ids": list(pair_ids), "fewer": fewer},
        )
        return cursor.rowcount


def queue_priority_set(*, project: Project, priorities: dict[int, float]) -> int:
    """Set the queue priority (used by the ``most_ambiguous`` order) of the given pairs and
    clear it on every other pair of the project, in two set-based statements."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE labelling_queueitem SET priority = 0 WHERE project_id = %s AND priority <> 0",
            [project.pk],
        )
        if not priorities:
            return 0
        cursor.execute(
            """
            UPDATE labelling_queueitem q SET priority = v.priority
            FROM unnest(%(ids)s::bigint[], %(values)s::float8[]) AS v(pair_id, priority)
            WHERE q.pair_id = v.pair_id AND q.project_id = %(project)s
            """,
            {
                "project": project.pk,
                "ids": list(priorities),
                "values": [float(v) for v in priorities.values()],
            },
        )
        return cursor.rowcount
