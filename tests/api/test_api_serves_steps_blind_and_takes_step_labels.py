"""Through the API an annotator is served a solution blind (the problem and its steps, no
imported labels, model or anyone's answer) and labels it, step by step or by its first error
alone; a bad answer is a 400 naming its field; reviewers, not annotators, read step flags."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import client_for
from tests.labelling.helpers import annotator, make_steps
from webapp.flags.models import Flag
from webapp.labelling.models import ItemAnswer
from webapp.projects.services import project_create

pytestmark = pytest.mark.django_db


def steps_project(n: int, wanted: int = 1) -> Any:
    project = project_create(name="steps", label_scheme="steps")
    project.votes_per_pair = wanted
    project.save()
    make_steps(project, n, steps=("Let x = 2.", "So x + x = 5.", "Answer: 5."))
    return project


def test_an_annotator_labels_each_step_and_retries_safely() -> None:
    project = steps_project(1)
    annie = client_for(annotator(project, "annie"))
    served = annie.post(f"/api/projects/{project.pk}/steps/next/")
    assert served.status_code == 200
    body = served.json()
    assert body["problem"] == "Problem 0"
    assert body["steps"] == [
        {"index": 0, "text": "Let x = 2."},
        {"index": 1, "text": "So x + x = 5."},
        {"index": 2, "text": "Answer: 5."},
    ]
    assert set(body) == {"token", "round", "expires_at", "problem", "conversation", "steps"}
    # served again while the lease lives: the same one
    assert annie.post(f"/api/projects/{project.pk}/steps/next/").json()["token"] == body["token"]
    url = f"/api/projects/{project.pk}/step-answers/"
    request = {"token": body["token"], "round": 0, "labels": ["good", "bad", None]}
    stored = annie.post(url, request, format="json")
    assert stored.status_code == 201 and stored.json()["status"] == "stored"
    assert annie.post(url, request, format="json").status_code == 200  # a retry
    answer = ItemAnswer.objects.get()
    assert (answer.kind, answer.payload) == ("steps", {"steps": [1, -1, None], "first_error": 1})
    assert annie.post(f"/api/projects/{project.pk}/steps/next/").status_code == 204


@pytest.mark.parametrize(
    ("first_error", "stored"),
    [(1, [1, -1, None]), (-1, [1, 1, 1]), (0, [-1, None, None])],
)
def test_first_error_mode_sends_only_the_first_wrong_step(
    first_error: int, stored: list[int | None]
) -> None:
    project = steps_project(1)
    annie = client_for(annotator(project, "annie"))
    token = annie.post(f"/api/projects/{project.pk}/steps/next/").json()["token"]
    response = annie.post(
        f"/api/projects/{project.pk}/step-answers/",
        {"token": token, "round": 0, "first_error": first_error},
        format="json",
    )
    assert response.status_code == 201, response.json()
    payload = ItemAnswer.objects.get().payload
    assert payload == {"steps": stored, "first_error": first_error}


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({}, "labels"),
        ({"labels": ["good", "fine", "bad"]}, "labels"),
        ({"labels": ["good", "bad"]}, "labels"),
        ({"first_error": 3}, "first_error"),
        ({"first_error": -2}, "first_error"),
        ({"labels": ["good", "bad", None], "first_error": 2}, "first_error"),
        ({"labels": ["good", "good", "good"], "first_error": 1}, "first_error"),
        ({"labels": [None, None, None]}, "labels"),
    ],
)
def test_a_bad_answer_is_a_400_naming_its_field(answer: dict[str, Any], field: str) -> None:
    project = steps_project(1)
    annie = client_for(annotator(project, "annie"))
    token = annie.post(f"/api/projects/{project.pk}/steps/next/").json()["token"]
    response = annie.post(
        f"/api/projects/{project.pk}/step-answers/",
        {"token": token, "round": 0, **answer},
        format="json",
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"], response.json()
    assert not ItemAnswer.objects.exists()


def test_reviewers_read_step_flags_and_annotators_do_not() -> None:
    project = steps_project(2)
    first, second = project.items.order_by("pk")
    flag = Flag.objects.create(
        project=project,
        item=second,
        kind=Flag.Kind.FIRST_ERROR_FAR,
        severity=4,
        source="step_scoring",
        details={"human_first_error": 0, "model_first_error": 2},
    )
    url = f"/api/projects/{project.pk}/flags/"
    assert client_for(annotator(project, "annie")).get(url).status_code == 404
    rev = client_for(annotator(project, "rev", "reviewer"))
    (listed,) = rev.get(url).json()["results"]
    assert (listed["id"], listed["item"], listed["pair"]) == (flag.pk, second.pk, None)
    assert listed["details"] == {"human_first_error": 0, "model_first_error": 2}
    assert rev.get(url, {"item": first.pk}).json()["results"] == []
    assert len(rev.get(url, {"item": second.pk}).json()["results"]) == 1


def test_other_schemes_are_pointed_elsewhere() -> None:
    pairs = project_create(name="pairs")
    client = client_for(annotator(pairs, "pat"))
    response = client.post(f"/api/projects/{pairs.pk}/steps/next/")
    assert response.status_code == 409 and "items/" in response.json()["error"]["message"]
    answer = {"token": "00000000-0000-0000-0000-000000000000", "round": 0, "first_error": -1}
    response = client.post(f"/api/projects/{pairs.pk}/step-answers/", answer, format="json")
    assert response.status_code == 409
