"""Annotator self-consistency: a share of each annotator's voted pairs served to them again
later, with A and B on the other sides, to see whether they give the same answer; in projects
that label items, a share of their answered items, served again with the responses in a new
order (drawn from the repeat's own token). Part of the labelling queue; the checks page reads
pairs' answers (webapp/checks/selectors.py), the agreement report items'
(webapp/labelling/item_agreement.py).

Which answers are repeated is decided by the assignment's token (a hash below the project's
share), so the share holds whatever order pairs come in, and an answer is repeated at most
once. A repeat waits until the annotator has given ``Project.repeat_gap`` more answers, so
that they answer afresh. A repeat is an Assignment with ``repeat_of`` set; its answer is a
RepeatAnswer, never a Vote or an ItemAnswer: it counts toward no pair's or item's wanted
answers and never enters aggregation. Nothing on the page tells a repeat from a first serving.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from webapp.labelling.leases import ASSIGNMENTS, lease_insert_sql
from webapp.labelling.models import Assignment, ItemAnswer, RepeatAnswer, Vote
from webapp.projects.models import Project

# Hash buckets of the token: a vote is repeated when its bucket is below share * BUCKETS.
BUCKETS = 1024


def _repeat_sql(column: str, answers: str) -> str:
    """The lease of a due repeat of the unit in ``column`` (pair_id or item_id) whose first
    answers are rows of the table ``answers`` (votes, or answers on items)."""
    # A pair comes back with A and B swapped; an item's order is drawn from the repeat's own
    # token (webapp/labelling/item_answers.py), so its shown_order stays as it was.
    swapped = "CASE WHEN shown_order = 'ab' THEN 'ba' ELSE 'ab' END"
    order = swapped if column == "pair_id" else "shown_order"
    return f"""
    WITH recent AS (
        -- the annotator's vote cast `gap` votes ago: older votes are due for a repeat
        SELECT finished_at FROM {ASSIGNMENTS}
        WHERE project_id = %(project)s AND annotator_id = %(user)s AND state = 'voted'
        ORDER BY finished_at DESC OFFSET %(gap)s LIMIT 1
    ), pick AS (
        SELECT o.id, o.{column}, o.shown_order FROM {ASSIGNMENTS} o, recent
        WHERE o.project_id = %(project)s AND o.annotator_id = %(user)s AND o.state = 'voted'
          AND o.repeat_of_id IS NULL AND o.finished_at <= recent.finished_at
          AND (hashtext(o.token::text) & %(mask)s) < %(cut)s
          AND NOT EXISTS (SELECT 1 FROM {ASSIGNMENTS} r WHERE r.repeat_of_id = o.id)
          AND EXISTS (SELECT 1 FROM {answers} v WHERE v.assignment_id = o.id)
        ORDER BY o.finished_at LIMIT 1
    )
    {
        lease_insert_sql(
            source="pick",
            shown_order=order,
            repeat_of="id",
            column=column,
        )
    }
    ON CONFLICT DO NOTHING
    RETURNING id
"""


_PAIR_SQL = _repeat_sql("pair_id", Vote._meta.db_table)
_ITEM_SQL = _repeat_sql("item_id", ItemAnswer._meta.db_table)


def repeat_settings_save(*, project: Project, share: float, gap: int) -> None:
    """Set the project's repeat share (0 turns repeats off) and gap; raises ValueError naming
    the bad field. The next pair served follows them."""
    if not 0.0 <= share <= 1.0:
        raise ValueError("repeat_share: must be between 0 and 1")
    if not 0 <= gap <= 10_000:
        raise ValueError("repeat_gap: must be between 0 and 10000")
    project.repeat_share, project.repeat_gap = share, gap
    project.save(update_fields=["repeat_share", "repeat_gap"])


def repeat_next(
    *, project: Project, annotator: Any, now: datetime, items: bool = False
) -> int | None:
    """Lease a due repeat to the annotator, of a pair (of an item, with ``items``): the new
    assignment's id, or None when none is due (or repeats are off). A parallel request
    repeating the same answer loses quietly."""
    cut = round(min(max(project.repeat_share, 0.0), 1.0) * BUCKETS)
    if cut == 0 or project.label_scheme == Project.LabelScheme.STEPS:
        return None  # steps' agreement has no self-consistency figure to spend a repeat on
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
        cursor.execute(_ITEM_SQL if items else _PAIR_SQL, params)
        row = cursor.fetchone()
    return int(row[0]) if row else None


def repeat_answer_store(
    *,
    assignment: Assignment,
    now: datetime,
    choice: str = "",
    kind: str = "",
    payload: dict[str, Any] | None = None,
) -> RepeatAnswer:
    """Record the answer to a repeat (a pair's ``choice``, or an item's cleaned ``payload`` of
    its ``kind``) and end its assignment. The caller holds the assignment's row lock
    (webapp.labelling.services.vote_submit, webapp.labelling.item_answers.item_answer_submit)."""
    answer = RepeatAnswer.objects.create(
        assignment=assignment,
        project_id=assignment.project_id,
        pair_id=assignment.pair_id,
        item_id=assignment.item_id,
        annotator_id=assignment.annotator_id,
        choice=choice,
        shown_order=assignment.shown_order,
        kind=kind,
        payload=payload,
        created_at=now,
    )
    assignment.state = Assignment.State.VOTED
    assignment.finished_at = now
    assignment.save(update_fields=["state", "finished_at"])
    return answer
