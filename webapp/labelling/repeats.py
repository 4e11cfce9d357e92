"""Annotator self-consistency: a share of each annotator's voted pairs served to them again
later, with A and B on the other sides, to see whether they give the same answer. Part of the
labelling queue; the checks page reads the answers (webapp/checks/selectors.py).

Which votes are repeated is decided by the assignment's token (a hash below the project's
share), so the share holds whatever order pairs come in, and a vote is repeated at most once.
A repeat waits until the annotator has cast ``Project.repeat_gap`` more votes, so that they
answer afresh. A repeat is an Assignment with ``repeat_of`` set; its answer is a RepeatAnswer,
never a Vote: it counts toward no pair's wanted votes and never enters aggregation.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from django.db import connection, transaction

from webapp.labelling.leases import ASSIGNMENTS, lease_insert_sql
from webapp.labelling.models import Assignment, RepeatAnswer, Vote
from webapp.projects.models import Project

# Hash buckets of the token: a vote is repeated when its bucket is below share * BUCKETS.
BUCKETS = 1024

_REPEAT_SQL = f"""
    WITH recent AS (
        -- the annotator's vote cast `gap` votes ago: older votes are due for a repeat
        SELECT finished_at FROM {ASSIGNMENTS}
        WHERE project_id = %(project)s AND annotator_id = %(user)s AND state = 'voted'
        ORDER BY finished_at DESC OFFSET %(gap)s LIMIT 1
    ), pick AS (
        SELECT o.id, o.pair_id, o.shown_order FROM {ASSIGNMENTS} o, recent
        WHERE o.project_id = %(project)s AND o.annotator_id = %(user)s AND o.state = 'voted'
          AND o.repeat_of_id IS NULL AND o.finished_at <= recent.finished_at
          AND (hashtext(o.token::text) & %(mask)s) < %(cut)s
          AND NOT EXISTS (SELECT 1 FROM {ASSIGNMENTS} r WHERE r.repeat_of_id = o.id)
          AND EXISTS (SELECT 1 FROM {Vote._meta.db_table} v WHERE v.assignment_id = o.id)
        ORDER BY o.finished_at LIMIT 1
    )
    {
    lease_insert_sql(
        source="pick",
        shown_order="CASE WHEN shown_order = 'ab' THEN 'ba' ELSE 'ab' END",
        repeat_of="id",
    )
}
    ON CONFLICT DO NOTHING
    RETURNING id
"""


def repeat_settings_save(*, project: Project, share: float, gap: int) -> None:
    """Set the project's repeat share (0 turns repeats off) and gap; raises ValueError naming
    the bad field. The next pair served follows them."""
    if not 0.0 <= share <= 1.0:
        raise ValueError("repeat_share: must be between 0 and 1")
    if not 0 <= gap <= 10_000:
        raise ValueError("repeat_gap: must be between 0 and 10000")
    project.repeat_share, project.repeat_gap = share, gap
    project.save(update_fields=["repeat_share", "repeat_gap"])


def repeat_next(*, project: Project, annotator: Any, now: datetime) -> int | None:
    """Lease a due repeat to the annotator: the new assignment's id, or None when none is due
    (or repeats are off). A parallel request repeating the same vote loses quietly."""
    cut = round(min(max(project.repeat_share, 0.0), 1.0) * BUCKETS)
    if cut == 0:
        return None
    params = {
        "project": project.pk,
        "user": annotator.pk,
        "gap": project.repeat_gap,
        "mask": BUCKETS - 1,
        "cut": cut,
        "token": uuid.uuid4(),
        "now": now,
        "expires": now + timedelta(minutes=project.lease_minutes),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_REPEAT_SQL, params)
        row = cursor.fetchone()
    return int(row[0]) if row else None


def repeat_answer_store(*, assignment: Assignment, choice: str, now: datetime) -> RepeatAnswer:
    """Record the answer to a repeat and end its assignment. The caller holds the
    assignment's row lock (webapp.labelling.services.vote_submit)."""
    answer = RepeatAnswer.objects.create(
        assignment=assignment,
        project_id=assignment.project_id,
        pair_id=cast(int, assignment.pair_id),  # a repeat is always of a pair
        annotator_id=assignment.annotator_id,
        choice=choice,
        shown_order=assignment.shown_order,
        created_at=now,
    )
    assignment.state = Assignment.State.VOTED
    assignment.finished_at = now
    assignment.save(update_fields=["state", "finished_at"])
    return answer
