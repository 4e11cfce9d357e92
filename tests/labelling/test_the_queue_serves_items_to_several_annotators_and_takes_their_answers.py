"""Items go through the pairs' queue and leases: each item is served to as many annotators as it
wants answers, in an order drawn per assignment; an answer derives votes; undo takes it back;
the page and its endpoints speak items."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.labelling.helpers import annotator, make_items
from webapp.labelling import queue, services
from webapp.labelling.item_answers import item_answer_submit, shown_positions
from webapp.labelling.models import Assignment, ItemAnswer, ItemQueueItem, Vote
from webapp.pairs.models import Pair
from webapp.projects.schemes import scheme_settings_parse
from webapp.projects.services import project_create

pytestmark = pytest.mark.django_db


def lease(project: Any, user: Any) -> Assignment | None:
    assignment_id = queue.assignment_next(project=project, annotator=user)
    return None if assignment_id is None else Assignment.objects.get(pk=assignment_id)


def test_each_item_goes_to_as_many_annotators_as_it_wants_and_never_twice_to_one() -> None:
    project = project_create(name="ranks", label_scheme="ranking", votes_per_pair=2)
    items = make_items(project, 3, k=3)
    people = [annotator(project, f"a{i}") for i in range(3)]
    served: dict[int, list[int]] = {}
    for person in people:
        while (assignment := lease(project, person)) is not None:
            assert assignment.pair_id is None
            served.setdefault(assignment.item_id or 0, []).append(person.pk)
            item_answer_submit(
                project=project,
                annotator=person,
                token=assignment.token,
                round=0,
                payload={"tiers": [[0], [1], [2]]},
            )
    assert sorted(served) == sorted(i.pk for i in items)
    assert all(len(who) == 2 == len(set(who)) for who in served.values())
    assert set(ItemQueueItem.objects.values_list("votes", "leases")) == {(2, 0)}
    assert ItemAnswer.objects.count() == 6
    assert Vote.objects.count() == 6 * 3  # three pairs an item


def test_the_shown_order_is_drawn_per_assignment_and_kept_on_the_answer() -> None:
    project = project_create(name="ranks", label_scheme="ranking", votes_per_pair=40)
    make_items(project, 1, k=4)
    settings = scheme_settings_parse({})
    orders = set()
    for i in range(40):
        assignment = lease(project, annotator(project, f"p{i}"))
        assert assignment is not None
        order = shown_positions(
            token=assignment.token, positions=[0, 1, 2, 3], kind="ranking", settings=settings
        )
        assert sorted(order) == [0, 1, 2, 3]
        orders.add(tuple(order))
    assert len(orders) > 5  # 24 orders possible; 40 draws hitting 5 or fewer is vanishingly rare


def test_a_bad_answer_names_its_field_and_an_undo_takes_the_votes_back() -> None:
    settings = {"attributes": [{"name": "help", "low": 1, "high": 3}], "overall": {"help": 1}}
    project = project_create(name="rated", label_scheme="rating", scheme_settings=settings)
    (item,) = make_items(project, 1, k=2)
    ann = annotator(project, "ann")
    assignment = lease(project, ann)
    assert assignment is not None
    with pytest.raises(services.LabellingError) as caught:
        item_answer_submit(project=project, annotator=ann, token=assignment.token, round=0,
                           payload={"ratings": {"0": {"help": 3}, "1": {"help": 7}}})  # fmt: skip
    assert caught.value.field == "payload.ratings.1.help"
    good = {"ratings": {"0": {"help": 3}, "1": {"help": 1}}}
    result = item_answer_submit(
        project=project, annotator=ann, token=assignment.token, round=0, payload=good
    )
    assert result.status == "stored"
    again = item_answer_submit(
        project=project, annotator=ann, token=assignment.token, round=0, payload=good
    )
    assert again.status == "duplicate"
    assert Vote.objects.filter(annotator=ann).count() == 2  # help and overall
    assert set(Pair.objects.filter(item=item).values_list("margin", flat=True)) == {2.0}
    undone = services.vote_undo(project=project, annotator=ann)
    assert undone is not None and undone.payload == good
    assert not Vote.objects.exists() and not ItemAnswer.objects.exists()
    assert set(Pair.objects.filter(item=item).values_list("margin", flat=True)) == {None}
    queue_row = ItemQueueItem.objects.get(item=item)
    assert (queue_row.votes, queue_row.leases) == (0, 1)  # leased to ann again
    stale = item_answer_submit(
        project=project, annotator=ann, token=assignment.token, round=0, payload=good
    )
    assert stale.status == "stale"


def test_the_page_serves_an_item_blind_and_takes_an_answer(client: Client) -> None:
    project = project_create(
        name="bw",
        label_scheme="ranking",
        scheme_settings={"ranking_mode": "best_worst", "best_worst_shown": 3},
    )
    make_items(project, 1, k=5)
    ann = annotator(project, "ann")
    client.force_login(ann)
    page = client.get(f"/projects/{project.pk}/label/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Pick the best, then the worst" in html
    assignment = Assignment.objects.get(annotator=ann)
    settings = scheme_settings_parse(project.scheme_settings)
    shown = shown_positions(
        token=assignment.token, positions=list(range(5)), kind="best_worst", settings=settings
    )
    assert len(shown) == 3
    for position in range(5):
        assert (f"Response 0.{position}" in html) == (position in shown)
    payload = {"shown": shown, "best": shown[2], "worst": shown[0]}
    response = client.post(
        f"/projects/{project.pk}/label/answer/",
        {"token": str(assignment.token), "round": "0", "payload": json.dumps(payload)},
    )
    assert response.status_code == 200 and response["X-Vote-Status"] == "stored"
    assert "Nothing left for you here" in response.content.decode()
    answer = ItemAnswer.objects.get()
    assert (answer.kind, answer.shown_order) == ("best_worst", shown)
    # best over the other two, the middle one over the worst: three votes
    assert Vote.objects.count() == 3
    bad = client.post(
        f"/projects/{project.pk}/label/answer/",
        {"token": str(assignment.token), "round": "0", "payload": "{"},
    )
    assert bad.status_code == 400


def test_more_votes_asked_on_a_derived_pair_are_more_answers_on_its_item() -> None:
    project = project_create(name="ranks", label_scheme="ranking", votes_per_pair=1)
    first, second = make_items(project, 2, k=3)
    ann = annotator(project, "ann")
    assignment = lease(project, ann)
    assert assignment is not None and assignment.item_id == first.pk
    item_answer_submit(
        project=project,
        annotator=ann,
        token=assignment.token,
        round=0,
        payload={"tiers": [[0], [1], [2]]},
    )
    pair = Pair.objects.filter(item=first).first()
    assert pair is not None
    assert queue.votes_wanted_raise(project=project, pair_ids=[pair.pk], extra=2) == 1
    assert ItemQueueItem.objects.get(item=first).wanted == 3  # one answer had, two more
    assert ItemQueueItem.objects.get(item=second).wanted == 1
    assert Pair.objects.get(pk=pair.pk).votes_wanted == 0  # the pair itself is never served
    assert queue.votes_wanted_lower(project=project, pair_ids=[pair.pk], fewer=5) == 1
    assert ItemQueueItem.objects.get(item=first).wanted == 1  # never below the answers it has
