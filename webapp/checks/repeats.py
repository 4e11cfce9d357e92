"""Annotator self-consistency: a share of each annotator's voted pairs served to them again
later, with A and B on the other sides, to see whether they give the same answer.

Which votes are repeated is decided by the assignment's token (a hash below the project's
share), so the share holds whatever order pairs come in, and a vote is repeated at most once.
A repeat waits until the annotator has cast ``repeat_gap`` more votes, so that they answer
afresh. A repeat is an Assignment with ``repeat_of`` set; its answer is a RepeatAnswer, never
a Vote: it counts toward no pair's wanted votes and never enters aggregation.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction

from webapp.checks.models import ChecksSettings, RepeatAnswer
from webapp.labelling.models import Assignment
from webapp.projects.models import Project

# Hash buckets of the token: a vote is repeated when its bucket is below share * BUCKETS.
BUCKETS = 1024
# The labelling queue reads a project's repeat settings this often at most (seconds, per
# web process); saving the settings clears this process's copy at once.
SETTINGS_CACHE_S = 30


def _settings_key(project_id: int) -> str:
    return f"checks:repeat-settings:{project_id}"


def repeat_settings(*, project: Project) -> tuple[float, int]:
    """(share, gap) of the project, cached: asked on every pair served."""

    def load() -> tuple[float, int]:
        row = (
            ChecksSettings.objects.filter(project_id=project.pk)
            .values_list("repeat_share", "repeat_gap")
            .first()
        )
        return (float(row[0]), int(row[1])) if row else (0.0, 20)

    value = cache.get_or_set(_settings_key(project.pk), load, timeout=SETTINGS_CACHE_S)
    return (float(value[0]), int(value[1])) if value else (0.0, 20)


def repeat_settings_forget(*, project_id: int) -> None:
    cache.delete(_settings_key(project_id))


_REPEAT_SQL = """
    WITH recent AS (
        -- the annotator's vote cast `gap` votes ago: older votes are due for a repeat
        SELECT finished_at FROM labelling_assignment
        WHERE project_id = %(project)s AND annotator_id = %(user)s AND state = 'voted'
        ORDER BY finished_at DESC OFFSET %(gap)s LIMIT 1
    ), pick AS (
        SELECT o.id, o.pair_id, o.shown_order FROM labelling_assignment o, recent
        WHERE o.project_id = %(project)s AND o.annotator_id = %(user)s AND o.state = 'voted'
          AND o.repeat_of_id IS NULL AND o.finished_at <= recent.finished_at
          AND (hashtext(o.token::text) & %(mask)s) < %(cut)s
          AND NOT EXISTS (SELECT 1 FROM labelling_assignment r WHERE r.repeat_of_id = o.id)
          AND EXISTS (SELECT 1 FROM labelling_vote v WHERE v.assignment_id = o.id)
        ORDER BY o.finished_at LIMIT 1
    )
    INSERT INTO labelling_assignment (project_id, pair_id, annotator_id, token, round, state,
        shown_order, served_at, expires_at, repeat_of_id)
    SELECT %(project)s, pair_id, %(user)s, %(token)s, 0, 'leased',
        CASE WHEN shown_order = 'ab' THEN 'ba' ELSE 'ab' END, %(now)s, %(expires)s, id
    FROM pick
    ON CONFLICT DO NOTHING
    RETURNING id
"""


def repeat_next(*, project: Project, annotator: Any, now: datetime) -> int | None:
    """Lease a due repeat to the annotator: the new assignment's id, or None when none is due
    (or repeats are off). A parallel request repeating the same vote loses quietly."""
    share, gap = repeat_settings(project=project)
    cut = round(min(max(share, 0.0), 1.0) * BUCKETS)
    if cut == 0:
        return None
    params = {
        "project": project.pk,
        "user": annotator.pk,
        "gap": gap,
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
    assignment's row lock (labelling.services.vote_submit)."""
    answer = RepeatAnswer.objects.create(
        assignment=assignment,
        project_id=assignment.project_id,
        pair_id=assignment.pair_id,
        annotator_id=assignment.annotator_id,
        choice=choice,
        shown_order=assignment.shown_order,
        created_at=now,
    )
    assignment.state = Assignment.State.VOTED
    assignment.finished_at = now
    assignment.save(update_fields=["state", "finished_at"])
    return answer
