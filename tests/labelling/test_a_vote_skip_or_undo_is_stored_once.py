"""Voting, skipping and undoing: what is stored, and that nothing is stored twice."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.labelling.helpers import annotator, lease, make_pairs, vote
from webapp.labelling import leases, services
from webapp.labelling.models import Assignment, QueueItem, Vote

pytestmark = pytest.mark.django_db


def post_vote(client: Any, project: Any, assignment: Any, **data: Any) -> Any:
    payload = {"token": assignment.token, "round": assignment.round, "prefetch": "0"}
    payload.update(data)
    return client.post(reverse("labelling:vote", args=[project.pk]), payload)


def test_a_double_submit_stores_one_vote(client: Any, project: Any) -> None:
    make_pairs(project, 3)
    ann = annotator(project, "ann")
    held = lease(project, ann)
    client.force_login(ann)
    first = post_vote(client, project, held, choice="left", strength="2", prefetch="1")
    second = post_vote(client, project, held, choice="left", strength="2", prefetch="1")
    assert first.status_code == second.status_code == 200
    assert (first["X-Vote-Status"], second["X-Vote-Status"]) == ("stored", "duplicate")
    assert Vote.objects.filter(annotator=ann).count() == 1
    assert QueueItem.objects.get(pair_id=held.pair_id).taken == 1


def test_a_and_b_name_the_pairs_responses_whatever_side_they_were_on(project: Any) -> None:
    make_pairs(project, 2)
    ann = annotator(project, "ann")
    for order in ("ab", "ba"):
        held = lease(project, ann)
        assert held is not None
        Assignment.objects.filter(pk=held.pk).update(shown_order=order)
        held.refresh_from_db()
        vote(project, ann, held, side="left", strength=1)
        stored = Vote.objects.get(assignment=held)
        assert stored.shown_order == order
        assert stored.choice == ("a" if order == "ab" else "b")
        assert stored.strength == 1


def test_the_page_shows_the_responses_in_the_stored_order(client: Any, project: Any) -> None:
    make_pairs(project, 1, a="First answer", b="Second answer")
    ann = annotator(project, "ann")
    client.force_login(ann)
    page = client.get(reverse("labelling:page", args=[project.pk])).content.decode()
    held = Assignment.objects.get(annotator=ann)
    left = re.search(r'data-side="left">.*?<p>(.*?)</p>', page, re.S)
    assert left is not None
    assert left.group(1) == ("First answer" if held.shown_order == "ab" else "Second answer")


def test_a_sided_vote_needs_a_strength_on_a_graded_scale(client: Any, project: Any) -> None:
    make_pairs(project, 1)
    ann = annotator(project, "ann")
    held = lease(project, ann)
    client.force_login(ann)
    assert post_vote(client, project, held, choice="right").status_code == 400
    assert post_vote(client, project, held, choice="right", strength="3").status_code == 400
    assert post_vote(client, project, held, choice="sideways").status_code == 400
    assert not Vote.objects.exists()
    assert post_vote(client, project, held, choice="tie", strength="1").status_code == 200
    assert Vote.objects.get().strength is None  # ties carry no strength


def test_time_per_vote_is_kept_but_never_beyond_the_servers_clock(project: Any) -> None:
    make_pairs(project, 2)
    ann = annotator(project, "ann")
    held = lease(project, ann)
    assert held is not None
    later = held.served_at + timedelta(seconds=30)
    vote(project, ann, held, time_taken_ms=12_000, now=later)
    assert Vote.objects.get(assignment=held).time_taken_ms == 12_000
    held = lease(project, ann)
    assert held is not None
    vote(project, ann, held, time_taken_ms=10**8, now=held.served_at + timedelta(seconds=5))
    assert Vote.objects.get(assignment=held).time_taken_ms == 5000


def test_undo_takes_the_vote_back_and_a_late_retry_of_it_is_stale(project: Any) -> None:
    make_pairs(project, 2)
    ann = annotator(project, "ann")
    held = lease(project, ann)
    assert held is not None
    vote(project, ann, held, side="right", strength=2, rationale="clearer")
    undone = services.vote_undo(project=project, annotator=ann)
    assert undone is not None
    assert (undone.side, undone.strength, undone.rationale) == ("right", 2, "clearer")
    assert not Vote.objects.exists()
    assert QueueItem.objects.get(pair_id=held.pair_id).taken == 1  # leased to them again
    assert vote(project, ann, held, side="right").status == "stale"  # round 0: before the undo
    held.refresh_from_db()
    assert held.round == 1 and held.state == Assignment.State.LEASED
    assert vote(project, ann, held, side="tie").status == "stored"
    assert Vote.objects.get().choice == "tie"


def test_a_late_vote_on_an_expired_lease_counts_while_the_pair_wants_votes(project: Any) -> None:
    project.votes_per_pair = 1
    project.save()
    make_pairs(project, 2)
    ann, other = annotator(project, "ann"), annotator(project, "other")
    first, second = lease(project, ann), lease(project, ann)
    assert first is not None and second is not None
    past = timezone.now() - timedelta(seconds=1)
    Assignment.objects.filter(annotator=ann).update(expires_at=past)
    leases.leases_reclaim(project=project)
    taken = lease(project, other)  # the second pair goes to someone else meanwhile
    assert taken is not None
    results = {a.pair_id: vote(project, ann, a).status for a in (first, second)}
    assert results[taken.pair_id] == "not_needed"
    assert set(results.values()) == {"stored", "not_needed"}
    for item in QueueItem.objects.filter(project=project):
        assert item.taken == 1


def test_a_skip_then_a_vote_with_the_same_token_stores_nothing(project: Any) -> None:
    make_pairs(project, 1)
    ann = annotator(project, "ann")
    held = lease(project, ann)
    assert held is not None
    assert services.assignment_skip(project=project, annotator=ann, token=held.token, round=0)
    assert vote(project, ann, held).status == "stale"
    assert not services.assignment_skip(project=project, annotator=ann, token=held.token, round=0)
    assert QueueItem.objects.get(pair_id=held.pair_id).taken == 0
