"""Annotators asking at the same moment, on separate database connections (real threads)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from tests.labelling.helpers import annotator, lease, make_pairs, vote
from webapp.labelling.models import Assignment, QueueItem, Vote

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; each thread has its own connection."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = calls[i]()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def test_two_annotators_asking_at_once_never_get_a_pair_beyond_its_wanted_vote(
    project: Any,
) -> None:
    project.votes_per_pair = 1
    project.save()
    ann, other = annotator(project, "ann"), annotator(project, "other")
    for _ in range(10):
        pair = make_pairs(project, 1)[0]
        got = at_once([lambda: lease(project, ann), lambda: lease(project, other)])
        assert sum(a is not None for a in got) == 1
        assert Assignment.objects.filter(pair=pair).count() == 1
        assert QueueItem.objects.get(pair=pair).leases == 1


def test_many_annotators_draining_a_project_get_exactly_the_wanted_copies(project: Any) -> None:
    project.votes_per_pair = 3
    project.save()
    pairs = make_pairs(project, 40)
    people = [annotator(project, f"ann{i}") for i in range(8)]

    def drain(person: Any) -> list[int]:
        got = []
        while (assignment := lease(project, person)) is not None:
            got.append(assignment.pair_id)
            if len(got) % 2:
                vote(project, person, assignment)
        return got

    results = at_once([lambda p=p: drain(p) for p in people])
    per_pair = Counter(pair_id for got in results for pair_id in got)
    assert per_pair == {p.pk: 3 for p in pairs}
    for got in results:
        assert len(got) == len(set(got))  # nobody got a pair twice
    for item in QueueItem.objects.filter(project=project):
        assert item.votes + item.leases == 3
        assert item.votes == Vote.objects.filter(pair_id=item.pair_id).count()


def test_the_same_vote_sent_twice_at_once_is_stored_once(project: Any) -> None:
    make_pairs(project, 1)
    ann = annotator(project, "ann")
    held = lease(project, ann)
    assert held is not None
    results = at_once([lambda: vote(project, ann, held) for _ in range(4)])
    assert sorted(r.status for r in results) == ["duplicate"] * 3 + ["stored"]
    assert Vote.objects.filter(pair_id=held.pair_id).count() == 1
    assert QueueItem.objects.get(pair_id=held.pair_id).leases == 0
