"""Step answers go through the shared lease queue: each annotator gets an item once, an item is
never leased beyond the answers it wants, a bad payload is refused by field, a double submit
stores one answer, and an expired lease gives the item back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.labelling.helpers import annotator
from webapp.imports.steps import ParsedSteps
from webapp.labelling import leases, queue
from webapp.labelling.item_answers import item_answer_submit
from webapp.labelling.models import Assignment, ItemAnswer, ItemQueueItem
from webapp.labelling.services import LabellingError
from webapp.pairs.models import Item
from webapp.projects.models import Project

pytestmark = pytest.mark.django_db


def _project(n_items: int, wanted: int) -> Project:
    from webapp.imports.models import ImportBatch
    from webapp.imports.step_items import steps_load

    project = Project.objects.create(name="steps", label_scheme="steps", votes_per_pair=wanted)
    batch = ImportBatch.objects.create(project=project, file_name="f.jsonl")
    records = [
        ParsedSteps(i + 1, f"Problem {i}", ["a", "b", "c"], None, external_id=str(i))
        for i in range(n_items)
    ]
    steps_load(
        batch=batch, records=records, fmt="x", reject=lambda e: None, annotator_id=lambda n: 0
    )
    return project


def _lease(project: Project, user: Any) -> Assignment | None:
    new_id = queue.assignment_next(project=project, annotator=user)
    return None if new_id is None else Assignment.objects.get(pk=new_id)


def _answer(project: Project, user: Any, a: Assignment, payload: Any) -> str:
    return item_answer_submit(
        project=project, annotator=user, token=a.token, round=a.round, payload=payload
    ).status


GOOD = {"steps": [1, -1, None], "first_error": None}


def test_each_item_goes_to_as_many_annotators_as_it_wants_and_to_each_once() -> None:
    project = _project(2, wanted=2)
    people = [annotator(project, f"a{i}") for i in range(3)]
    got: dict[str, list[int]] = {}
    for user in people:
        while (a := _lease(project, user)) is not None:
            assert _answer(project, user, a, GOOD) == "stored"
            got.setdefault(user.username, []).append(a.item_id)  # type: ignore[arg-type]
    # two answers per item: the first two annotators take both items, the third finds none
    assert sorted(len(v) for v in got.values()) == [2, 2]
    for items in got.values():
        assert len(set(items)) == len(items)
    assert set(ItemQueueItem.objects.values_list("votes", "leases")) == {(2, 0)}
    stored = ItemAnswer.objects.filter(project=project).first()
    assert stored is not None and stored.payload == {"steps": [1, -1, None], "first_error": 1}


def test_a_bad_payload_is_refused_by_field_and_a_double_submit_stores_once() -> None:
    project = _project(1, wanted=1)
    user = annotator(project, "a")
    a = _lease(project, user)
    assert a is not None
    with pytest.raises(LabellingError) as info:
        _answer(project, user, a, {"steps": [1, 1], "first_error": None})
    assert info.value.field == "payload.steps" and "one label per step (3)" in str(info.value)
    with pytest.raises(LabellingError) as info:
        _answer(project, user, a, {"steps": [1, 1, -1], "first_error": 0})
    assert info.value.field == "payload.first_error"
    assert _answer(project, user, a, GOOD) == "stored"
    assert _answer(project, user, a, GOOD) == "duplicate"
    assert ItemAnswer.objects.count() == 1


def test_an_expired_lease_gives_the_item_back() -> None:
    project = _project(1, wanted=1)
    first, second = annotator(project, "a"), annotator(project, "b")
    a = _lease(project, first)
    assert a is not None and _lease(project, second) is None
    later = timezone.now() + timedelta(minutes=project.lease_minutes + 1)
    assert leases.leases_reclaim(project=project, now=later) == 1
    assert ItemQueueItem.objects.get().leases == 0
    assert _lease(project, second) is not None
    assert Item.objects.count() == 1
