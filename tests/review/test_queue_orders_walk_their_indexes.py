"""The orders behind "next pair" walk an index of their own: the labelling queue's most
ambiguous order (queue_open_priority) and the review queue by rank, with or without a kind."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tests.review.helpers import scored_flagged_pairs
from webapp.labelling import ordering
from webapp.review import services
from webapp.review.filters import QueueFilter
from webapp.review.selectors import _queue_from

pytestmark = pytest.mark.django_db


def plan(sql: str, params: dict[str, Any]) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_most_ambiguous_order_uses_its_partial_index(project: Any) -> None:
    order = ordering.get("most_ambiguous").order_by
    text = plan(
        f"SELECT q.pair_id FROM labelling_queueitem q WHERE q.project_id = %(p)s "
        f"AND q.taken < q.wanted ORDER BY {order} LIMIT 1",
        {"p": project.pk},
    )
    assert "queue_open_priority" in text


@pytest.mark.parametrize(
    ("kind", "index"), [("", "reviewitem_queue"), ("ambiguous", "reviewitemkind_rank")]
)
def test_review_queue_walks_rank(project: Any, kind: str, index: str) -> None:
    scored_flagged_pairs(project, [-3.0, 0.01])
    services.review_queue_rebuild(project=project)
    queue_filter = QueueFilter(kind=kind)
    sql, params = _queue_from(queue_filter)
    text = plan(
        f"SELECT i.pair_id {sql} ORDER BY {queue_filter.order()} LIMIT 50",
        {**params, "project": project.pk},
    )
    assert index in text
