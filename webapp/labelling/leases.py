"""Leases: the one way an assignment (a pair served to an annotator) is written, and the sweep
that gives expired leases back to the queue.

Both the queue's next pair (webapp/labelling/queue.py) and a self-consistency repeat
(webapp/labelling/repeats.py) insert their assignment with ``lease_insert_sql``.
"""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from webapp.labelling.models import Assignment, ItemQueueItem, QueueItem
from webapp.projects.models import Project

# How often, at most, a labelling request sweeps its project's expired leases (seconds). A
# sweep also runs whenever an annotator finds nothing to do.
RECLAIM_EVERY_S = 30
RECLAIM_BATCH = 1000

ASSIGNMENTS = Assignment._meta.db_table
QUEUE = QueueItem._meta.db_table
ITEM_QUEUE = ItemQueueItem._meta.db_table


def lease_insert_sql(
    *, source: str, shown_order: str, repeat_of: str = "NULL", column: str = "pair_id"
) -> str:
    """The INSERT of a leased assignment for each row of ``source`` (a CTE with a ``column``
    column: ``pair_id``, or ``item_id`` for items), shown in ``shown_order`` (SQL), returning
    the assignment's id. Parameters: project, user, token, now, expires."""
    return f"""
        INSERT INTO {ASSIGNMENTS} (project_id, {column}, annotator_id, token, round, state,
            shown_order, served_at, expires_at, repeat_of_id)
        SELECT %(project)s, {column}, %(user)s, %(token)s, 0, 'leased', {shown_order},
            %(now)s, %(expires)s, {repeat_of}
        FROM {source}
    """


def leases_reclaim(*, project: Project, now: datetime | None = None) -> int:
    """Expire the project's leases that ran out, giving their pairs (or items) back to the queue.

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
            f"""
            WITH gone AS (
                UPDATE {ASSIGNMENTS} a SET state = 'expired', finished_at = %(now)s
                WHERE a.id IN (
                    SELECT id FROM {ASSIGNMENTS}
                    WHERE project_id = %(project)s AND state = 'leased' AND expires_at < %(now)s
                    ORDER BY expires_at LIMIT %(batch)s
                    FOR UPDATE SKIP LOCKED)
                RETURNING a.pair_id, a.item_id, a.repeat_of_id
            ), released AS (
                -- a self-consistency repeat never held a lease on the queue row
                UPDATE {QUEUE} q SET leases = q.leases - c.n
                FROM (SELECT pair_id, count(*) AS n FROM gone
                      WHERE repeat_of_id IS NULL AND pair_id IS NOT NULL GROUP BY pair_id) c
                WHERE q.pair_id = c.pair_id
                RETURNING c.n
            ), released_items AS (
                UPDATE {ITEM_QUEUE} q SET leases = q.leases - c.n
                FROM (SELECT item_id, count(*) AS n FROM gone
                      WHERE repeat_of_id IS NULL AND item_id IS NOT NULL GROUP BY item_id) c
                WHERE q.item_id = c.item_id
                RETURNING c.n
            )
            SELECT coalesce((SELECT sum(n) FROM released), 0)
                + coalesce((SELECT sum(n) FROM released_items), 0)
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
