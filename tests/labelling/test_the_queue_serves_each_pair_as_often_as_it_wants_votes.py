"""The assignment queue: who gets which pair next, and how many copies a pair may have out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.labelling.helpers import annotator, lease, make_pairs, vote
from webapp.labelling import ordering, services
from webapp.labelling.models import Assignment, QueueItem, Vote
from webapp.pairs.models import Pair

pytestmark = pytest.mark.django_db


def queue(pair: Pair) -> QueueItem:
    return QueueItem.objects.get(pair=pair)


def one_pair_leased_to_one_of_two(project: Any) -> tuple[Pair, Any, Any, Assignment]:
    """A project's one pair, wanting one vote: (pair, ann, other, ann's lease), and other is
    served nothing while ann holds it."""
    project.votes_per_pair = 1
    project.save()
    pair = make_pairs(project, 1)[0]
    ann, other = annotator(project, "ann"), annotator(project, "other")
    held = lease(project, ann)
    assert held is not None and lease(project, other) is None
    return pair, ann, other, held


def test_a_new_pair_enters_the_queue_wanting_the_projects_votes(project: Any) -> None:
    project.votes_per_pair = 4
    project.save()
    plain, special = make_pairs(project, 1)[0], make_pairs(project, 1, votes_wanted=7)[0]
    assert (queue(plain).wanted, queue(plain).votes, queue(plain).leases) == (4, 0, 0)
    assert queue(special).wanted == 7


def test_votes_written_anywhere_move_the_queue(project: Any, admin_user: Any) -> None:
    pair = make_pairs(project, 1)[0]
    Vote.objects.bulk_create([Vote(pair=pair, annotator=admin_user, choice="a")])
    assert queue(pair).votes == 1
    Vote.objects.filter(pair=pair).delete()
    assert queue(pair).votes == 0


def test_changing_votes_wanted_reaches_every_pair_without_an_override(project: Any) -> None:
    plain = make_pairs(project, 3)
    special = make_pairs(project, 1, votes_wanted=5)[0]
    project.votes_per_pair = 2
    project.save(update_fields=["votes_per_pair"])
    assert {queue(p).wanted for p in plain} == {2}
    assert queue(special).wanted == 5
    Pair.objects.filter(pk=special.pk).update(votes_wanted=None)
    assert queue(special).wanted == 2


def test_pairs_are_served_fewest_votes_first_then_oldest(project: Any, admin_user: Any) -> None:
    first, second, third = make_pairs(project, 3)
    Vote.objects.create(pair=first, annotator=admin_user, choice="a")
    ann = annotator(project, "ann")
    served = [lease(project, ann) for _ in range(3)]
    assert [a.pair_id for a in served if a] == [second.pk, third.pk, first.pk]


def test_an_annotator_never_gets_a_pair_twice(project: Any, admin_user: Any) -> None:
    pairs = make_pairs(project, 4)
    ann = annotator(project, "ann")
    Vote.objects.create(pair=pairs[0], annotator=ann, choice="a")  # imported vote of theirs
    voted = lease(project, ann)
    assert voted is not None
    vote(project, ann, voted)
    skipped = lease(project, ann)
    assert skipped is not None
    services.assignment_skip(project=project, annotator=ann, token=skipped.token, round=0)
    held = lease(project, ann)
    assert held is not None
    assert lease(project, ann) is None
    assert len({voted.pair_id, skipped.pair_id, held.pair_id, pairs[0].pk}) == 4


def test_a_pair_is_never_leased_beyond_the_votes_it_wants(project: Any) -> None:
    project.votes_per_pair = 2
    project.save()
    make_pairs(project, 3)
    make_pairs(project, 1, votes_wanted=1)
    people = [annotator(project, f"ann{i}") for i in range(5)]
    got = [a for person in people for a in iter(lambda p=person: lease(project, p), None)]
    assert len(got) == 3 * 2 + 1
    for item in QueueItem.objects.filter(project=project):
        assert item.leases == item.wanted
        assert Assignment.objects.filter(pair_id=item.pair_id).count() == item.wanted


def test_a_skip_gives_the_pair_to_someone_else(project: Any) -> None:
    pair, ann, other, held = one_pair_leased_to_one_of_two(project)
    assert services.assignment_skip(project=project, annotator=ann, token=held.token, round=0)
    assert queue(pair).leases == 0
    again = lease(project, other)
    assert again is not None and again.pair_id == pair.pk


def test_an_expired_lease_gives_its_pair_back(project: Any) -> None:
    pair, _, other, held = one_pair_leased_to_one_of_two(project)
    Assignment.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    again = lease(project, other)  # nothing open: the lease is reclaimed, then served
    assert again is not None and again.pair_id == pair.pk
    held.refresh_from_db()
    assert held.state == Assignment.State.EXPIRED
    assert queue(pair).leases == 1


def test_a_project_uses_the_order_it_names(project: Any) -> None:
    pairs = make_pairs(project, 3)
    newest = ordering.register(
        ordering.QueueOrder(name="test_newest", label="Newest first", order_by="q.pair_id DESC")
    )
    try:
        project.queue_order = newest.name
        project.save()
        served = lease(project, annotator(project, "ann"))
        assert served is not None and served.pair_id == pairs[-1].pk
        project.queue_order = "no-such-order"  # an order nobody registers falls back
        project.save()
        served = lease(project, annotator(project, "ann2"))
        assert served is not None and served.pair_id == pairs[0].pk
    finally:
        ordering._ORDERS.pop(newest.name)


def test_a_pair_deleted_anyhow_leaves_the_queue(project: Any) -> None:
    from django.db import connection

    first, second = make_pairs(project, 2)
    first.delete()  # the ORM's cascade
    with connection.cursor() as cursor:  # plain SQL, as a bulk clean-up would
        cursor.execute("DELETE FROM pairs_pair WHERE id = %s", [second.pk])
    assert not QueueItem.objects.exists()
