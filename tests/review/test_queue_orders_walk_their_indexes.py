"""The orders behind "next pair" walk an index of their own: the labelling queue's most
ambiguous order (queue_open_priority) and the review queue by rank, with or without a kind;
a review state that few decisions have starts from those decisions instead."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tests.review.helpers import reviewer, scored_flagged_pairs
from webapp.labelling import ordering
from webapp.review import decisions, queue, selectors
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
    queue.review_queue_rebuild(project=project)
    queue_filter = QueueFilter(kind=kind)
    sql, params, _ = _queue_from(project, queue_filter)
    text = plan(f"SELECT i.pair_id {sql} ORDER BY {queue_filter.order()} LIMIT 50", params)
    assert index in text


@pytest.mark.parametrize("kind", ["", "ambiguous"])
def test_a_rare_review_state_starts_from_its_decisions(
    project: Any, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, pairs = scored_flagged_pairs(project, [-3.0, -2.0, 0.01, 0.02, 0.03, 0.04])
    queue.review_queue_rebuild(project=project)
    rita = reviewer(project)
    actions = ["keep", "more_votes", "flip", "more_votes", "", ""]
    for pair, action in zip(pairs, actions, strict=True):
        if action:
            decisions.review_decide(
                project=project, pair_id=pair.pk, action=action, reviewer=rita,
                votes=2 if action == "more_votes" else 0,
            )  # fmt: skip
    expected = {
        ("sent_back", ""): [pairs[1], pairs[3]],
        ("sent_back", "ambiguous"): [pairs[3]],
        ("decided", ""): [pairs[0], pairs[2]],
        ("decided", "ambiguous"): [pairs[2]],
        ("keep", ""): [pairs[0]],
        ("keep", "ambiguous"): [],
    }

    def listed() -> dict[tuple[str, str], list[int]]:
        found = {}
        for state, k in expected:
            if k != kind:
                continue
            queue_filter = QueueFilter(state=state, kind=k)
            rows = selectors.queue_page(project=project, queue_filter=queue_filter)
            count = selectors.queue_count(project=project, queue_filter=queue_filter)
            assert count == len(rows)
            found[(state, k)] = [row.pair_id for row in rows]
        return found

    want = {key: [p.pk for p in ps] for key, ps in expected.items() if key[1] == kind}
    sql, params, settings = _queue_from(project, QueueFilter(state="sent_back", kind=kind))
    assert settings == selectors._FROM_DECISIONS
    assert "pairreview_outcome" in plan(f"SELECT i.pair_id {sql}", params)
    assert listed() == want  # most severe first, as the walk gives them
    monkeypatch.setattr(selectors, "DECISIONS_FEW", 0)  # every state walks the queue
    assert _queue_from(project, QueueFilter(state="sent_back", kind=kind))[2] == selectors._WALK
    assert listed() == want


def test_a_kind_with_a_range_or_split_lists_what_its_own_rows_would(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webapp.flags.models import Flag
    from webapp.pairs.models import Pair

    mus = [-3.0, -2.5, -0.5, 0.02, 0.3, 0.8, 1.5, 2.5]
    run, pairs = scored_flagged_pairs(project, mus)
    Pair.objects.filter(pk__in=[p.pk for p in pairs[::3]]).update(split="test")
    # some pairs carry a second kind
    Flag.objects.bulk_create(
        [
            Flag(project=project, pair=p, scoring_run=run, source="scoring", kind="unstable",
                 severity=2)
            for p in pairs[1::2]
        ]
    )  # fmt: skip
    queue.review_queue_rebuild(project=project)
    filters = [
        QueueFilter(kind="unstable", mu_min=-1.0),
        QueueFilter(kind="unstable", mu_max=0.5, split="test"),
        QueueFilter(kind="ambiguous", split="test"),
        QueueFilter(kind="likely_mislabelled", mu_min=0.0),
        QueueFilter(kind="ambiguous", mu_min=0.0, mu_max=2.0, state="undecided"),
    ]
    assert all(not f.by_kind_rows for f in filters)

    def listed() -> list[tuple[list[int], int]]:
        return [
            (
                [r.pair_id for r in selectors.queue_page(project=project, queue_filter=f)],
                selectors.queue_count(project=project, queue_filter=f),
            )
            for f in filters
        ]

    walked_queue = listed()
    monkeypatch.setattr(QueueFilter, "by_kind_rows", property(lambda self: bool(self.kind)))
    assert listed() == walked_queue
    by_id = {p.pk: (mu, p) for p, mu in zip(pairs, mus, strict=True)}
    unstable = {p.pk for p in pairs[1::2]}
    ids, count = walked_queue[0]
    assert set(ids) == {pid for pid in unstable if by_id[pid][0] >= -1.0} and count == len(ids)
    assert walked_queue[3] == ([], 0)
