"""The labelling queue: which pair an annotator gets next, and how many votes each pair wants.

Locking order, the same everywhere, so no two writes of labelling can deadlock: an assignment
row first, then at most one queue row at a time. ``assignment_next`` locks one queue row and
nothing else; ``leases_reclaim`` (webapp/labelling/leases.py) takes assignment rows it can get
without waiting, then queue rows, and runs once per project at a time.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection
from django.utils import timezone

from webapp.dbbackend import prepared
from webapp.labelling import ordering
from webapp.labelling.leases import (
    ASSIGNMENTS,
    ITEM_QUEUE,
    QUEUE,
    lease_insert_sql,
    leases_reclaim,
)
from webapp.labelling.models import ItemAnswer, Vote
from webapp.labelling.repeats import repeat_next
from webapp.labelling.services import LabellingError
from webapp.pairs.models import Item, Pair
from webapp.projects.models import Project
from webapp.projects.schemes import labels_items

PAIRS = Pair._meta.db_table


@dataclass(frozen=True)
class Unit:
    """What a project labels, as the queue sees it: its queue table, the key column that
    queue rows, assignments and answers share, and the table of its answers."""

    queue: str
    column: str
    answers: str


PAIR = Unit(QUEUE, "pair_id", Vote._meta.db_table)
ITEM = Unit(ITEM_QUEUE, "item_id", ItemAnswer._meta.db_table)


def unit_of(project: Project) -> Unit:
    return ITEM if labels_items(project) else PAIR


def _next_sql(order_by: str, unit: Unit = PAIR) -> str:
    # One statement: pick, lock, count the lease, insert the assignment. SKIP LOCKED passes over
    # a pair another request is leasing this instant instead of queueing behind it; the lock
    # makes PostgreSQL re-check "taken < wanted" on the newest row version, so concurrent
    # requests never lease a pair beyond the votes it wants. Items: the same, over their queue.
    c = unit.column
    return f"""
        WITH pick AS (
            SELECT q.{c} FROM {unit.queue} q
            WHERE q.project_id = %(project)s AND q.taken < q.wanted
              AND NOT EXISTS (SELECT 1 FROM {ASSIGNMENTS} a
                              WHERE a.{c} = q.{c} AND a.annotator_id = %(user)s)
              AND NOT EXISTS (SELECT 1 FROM {unit.answers} v
                              WHERE v.{c} = q.{c} AND v.annotator_id = %(user)s)
            ORDER BY {order_by}
            LIMIT 1
            FOR UPDATE OF q SKIP LOCKED
        ), counted AS (
            UPDATE {unit.queue} q SET leases = q.leases + 1
            FROM pick WHERE q.{c} = pick.{c}
            RETURNING q.{c}
        )
        {lease_insert_sql(source="counted", shown_order="%(order)s", column=c)}
        RETURNING id
    """


def assignment_next(*, project: Project, annotator: Any, now: datetime | None = None) -> int | None:
    """Lease the next open pair (an item, in a project that labels items) to the annotator;
    the new assignment's id, or None if none is open for them. A due self-consistency repeat
    of a pair or item comes first (webapp/labelling/repeats.py; off unless the project turns
    it on).
    The side each response is shown on is drawn here, per annotator and pair, and kept on the
    assignment (and later the vote); an item's order is drawn from its assignment's token
    (webapp/labelling/item_answers.py)."""
    now = now or timezone.now()
    unit = unit_of(project)
    repeat_id = repeat_next(project=project, annotator=annotator, now=now, items=unit is ITEM)
    if repeat_id is not None:
        return repeat_id
    sql = _next_sql(ordering.get(project.queue_order).over(unit.column), unit)
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
            row = prepared.one_row(sql, params, durable=False)
        except IntegrityError:
            # The same annotator leased this very pair in a parallel request; pick again.
            continue
        if row is not None:
            return int(row[0])
        if attempt == 0 and leases_reclaim(project=project, now=now):
            continue  # expired leases were holding the last open pairs
        return None
    return None


def votes_wanted_raise(*, project: Project, pair_ids: list[int], extra: int) -> int:
    """Ask for ``extra`` more votes on each of the pairs: each then wants ``extra`` votes more
    than it wanted or has, whichever is more. One UPDATE of the pairs (their trigger moves
    the queue rows' ``wanted``); returns how many pairs it raised."""
    if extra < 1:
        raise LabellingError("ask for at least one more vote")
    if not pair_ids:
        return 0
    if labels_items(project):
        return _answers_wanted_move(project=project, pair_ids=pair_ids, by=extra)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {PAIRS} p
            SET votes_wanted = least(32767, greatest(q.wanted, q.votes) + %(extra)s)
            FROM {QUEUE} q
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
    if labels_items(project):
        return _answers_wanted_move(project=project, pair_ids=pair_ids, by=-fewer)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {PAIRS} p
            SET votes_wanted = greatest(q.taken, q.wanted - %(fewer)s)
            FROM {QUEUE} q
            WHERE q.pair_id = p.id AND p.project_id = %(project)s AND p.id = ANY(%(ids)s)
                AND q.wanted > q.taken
            """,
            {"project": project.pk, "ids": list(pair_ids), "fewer": fewer},
        )
        return cursor.rowcount


def answers_wanted_raise(*, project: Project, item_ids: list[int], extra: int) -> int:
    """Ask for ``extra`` more answers on each of these items (as votes_wanted_raise does for
    pairs): each then wants ``extra`` more than it wanted or has. Returns the items raised."""
    if extra < 1 or not item_ids:
        return 0
    items = Item._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {items} i
            SET answers_wanted = least(32767, greatest(q.wanted, q.votes) + %(extra)s)
            FROM {ITEM_QUEUE} q
            WHERE q.item_id = i.id AND i.project_id = %(project)s AND i.id = ANY(%(ids)s)
            """,
            {"project": project.pk, "ids": list(item_ids), "extra": extra},
        )
        return cursor.rowcount


def _answers_wanted_move(*, project: Project, pair_ids: list[int], by: int) -> int:
    """votes_wanted_raise / _lower in a project that labels items: more (or fewer) votes on a
    derived pair are more (or fewer) answers on its item, which is what is served. Lowering
    never goes below the answers an item has or has leased out. Returns the items moved."""
    items = Item._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {items} i
            SET answers_wanted = CASE WHEN %(by)s > 0
                THEN least(32767, greatest(q.wanted, q.votes) + %(by)s)
                ELSE greatest(q.taken, q.wanted + %(by)s) END
            FROM {ITEM_QUEUE} q
            WHERE q.item_id = i.id AND i.project_id = %(project)s
                AND i.id IN (SELECT item_id FROM {PAIRS} WHERE id = ANY(%(ids)s)
                             AND project_id = %(project)s)
                AND (%(by)s > 0 OR q.wanted > q.taken)
            """,
            {"project": project.pk, "ids": list(pair_ids), "by": by},
        )
        return cursor.rowcount


def queue_priority_set(*, project: Project, priorities: dict[int, float]) -> int:
    """Set the queue priority (used by the ``most_ambiguous`` order) of the given pairs and
    clear it on every other pair of the project, in two set-based statements."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {QUEUE} SET priority = 0 WHERE project_id = %s AND priority <> 0",
            [project.pk],
        )
        if not priorities:
            return 0
        cursor.execute(
            f"""
            UPDATE {QUEUE} q SET priority = v.priority
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
