"""Self-consistency on items: with repeats on, an answered item comes back to the same annotator
after the gap, blind and in an order of its own; its answer is stored apart and counts as no
answer, no vote and no lease; which answers come back follows the project's share."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.labelling.helpers import annotator, lease, make_items
from webapp.labelling.item_answers import item_answer_submit, shown_positions
from webapp.labelling.leases import leases_reclaim
from webapp.labelling.models import Assignment, ItemAnswer, ItemQueueItem, RepeatAnswer, Vote
from webapp.labelling.repeats import repeat_settings_save
from webapp.projects.schemes import scheme_settings_of
from webapp.projects.services import project_create

pytestmark = pytest.mark.django_db

BEST_FIRST = {"tiers": [[0], [1], [2]]}


def answer(project: Any, user: Any, assignment: Assignment, payload: Any = None) -> Any:
    return item_answer_submit(
        project=project,
        annotator=user,
        token=assignment.token,
        round=assignment.round,
        payload=payload or BEST_FIRST,
    )


def test_an_item_comes_back_after_the_gap_and_its_answer_counts_nowhere() -> None:
    project = project_create(name="ranks", label_scheme="ranking", votes_per_pair=1)
    make_items(project, 4, k=3)
    ann = annotator(project, "ann", login=True)
    repeat_settings_save(project=project, share=1.0, gap=2)
    first = lease(project, ann)
    assert first is not None and first.repeat_of_id is None
    answer(project, ann, first)
    later = []
    for _ in range(2):  # two more answers before the first one is due again
        other = lease(project, ann)
        assert other is not None and other.repeat_of_id is None
        assert other.item_id != first.item_id
        answer(project, ann, other)
        later.append(other)
    repeat = lease(project, ann)
    assert repeat is not None
    assert (repeat.repeat_of_id, repeat.item_id) == (first.pk, first.item_id)
    assert repeat.token != first.token  # its own token: its own order of the responses
    settings = scheme_settings_of(project)
    order = shown_positions(token=repeat.token, positions=[0, 1, 2], kind="ranking",
                            settings=settings)  # fmt: skip
    client = Client()
    client.force_login(ann)
    page = client.get(f"/projects/{project.pk}/label/").content.decode()
    assert str(repeat.token) in page and "repeat" not in page.lower()  # blind
    assert f'data-positions="{json.dumps(order)}"' in page  # the order its own token draws
    answers, votes = ItemAnswer.objects.count(), Vote.objects.count()
    result = answer(project, ann, repeat, {"tiers": [[1], [0], [2]]})
    assert result.status == "stored"
    stored = RepeatAnswer.objects.get(assignment=repeat)
    assert (stored.item_id, stored.pair_id, stored.kind) == (first.item_id, None, "ranking")
    assert stored.payload == {"tiers": [[1], [0], [2]]}
    assert (ItemAnswer.objects.count(), Vote.objects.count()) == (answers, votes)
    row = ItemQueueItem.objects.get(item_id=first.item_id)
    assert (row.votes, row.leases) == (1, 0)
    assert answer(project, ann, repeat).status == "duplicate"
    # an answer comes back once: next is the second answer's repeat (two answers ago now)
    again = lease(project, ann)
    assert again is not None and again.repeat_of_id == later[0].pk
    answer(project, ann, again)
    repeat_settings_save(project=project, share=0.0, gap=2)
    # the fourth item is still open: no repeat took an answer's place
    last = lease(project, ann)
    assert last is not None and last.repeat_of_id is None
    assert last.item_id not in {first.item_id, *(a.item_id for a in later)}


def test_the_share_decides_which_answers_come_back_as_the_tokens_hash_says() -> None:
    project = project_create(name="rated", label_scheme="ranking", votes_per_pair=1)
    make_items(project, 12, k=3)
    ann = annotator(project, "ann")
    firsts = []
    while (assignment := lease(project, ann)) is not None:  # repeats are off by default
        assert assignment.repeat_of_id is None
        answer(project, ann, assignment)
        firsts.append(assignment)
    assert len(firsts) == 12
    repeat_settings_save(project=project, share=0.5, gap=0)
    with connection.cursor() as cursor:  # the bucket of each token, as PostgreSQL hashes it
        cursor.execute(
            "SELECT id FROM labelling_assignment WHERE id = ANY(%s) "
            "AND (hashtext(token::text) & 1023) < 512",
            [[a.pk for a in firsts]],
        )
        due = {row[0] for row in cursor.fetchall()}
    repeated = set()
    while (repeat := lease(project, ann)) is not None:
        assert repeat.repeat_of_id is not None and repeat.repeat_of_id not in repeated
        repeated.add(repeat.repeat_of_id)
        answer(project, ann, repeat)
    assert repeated == due
    assert RepeatAnswer.objects.filter(item__isnull=False).count() == len(due)
    assert ItemAnswer.objects.count() == 12


def test_an_expired_repeat_gives_back_no_lease_and_steps_are_never_repeated() -> None:
    project = project_create(name="ranks", label_scheme="ranking", votes_per_pair=1)
    make_items(project, 1, k=3)
    ann = annotator(project, "ann")
    repeat_settings_save(project=project, share=1.0, gap=0)
    first = lease(project, ann)
    assert first is not None
    answer(project, ann, first)
    repeat = lease(project, ann)
    assert repeat is not None and repeat.repeat_of_id == first.pk
    later = timezone.now() + timedelta(minutes=project.lease_minutes + 1)
    assert leases_reclaim(project=project, now=later) == 0
    assert Assignment.objects.get(pk=repeat.pk).state == "expired"
    assert ItemQueueItem.objects.get(item_id=first.item_id).leases == 0

    steps = project_create(name="steps", label_scheme="steps", votes_per_pair=1)
    make_items(steps, 1, k=1)
    bob = annotator(steps, "bob")
    repeat_settings_save(project=steps, share=1.0, gap=0)
    served = lease(steps, bob)
    assert served is not None
    item_answer_submit(project=steps, annotator=bob, token=served.token, round=0,
                       payload={"steps": [1], "first_error": -1})  # fmt: skip
    assert lease(steps, bob) is None
