"""Through the API an annotator is served an item blind and answers it; a bad payload is a 400
naming its field; reviewers read items with their answers; the pair endpoints say where items
are served, and the item endpoints where pairs are."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import client_for
from tests.factories import MembershipFactory, UserFactory
from tests.labelling.helpers import make_items
from webapp.labelling.models import ItemAnswer, Vote
from webapp.projects.services import project_create

pytestmark = pytest.mark.django_db


def member(project: Any, name: str, role: str) -> Any:
    user = UserFactory(username=name)
    MembershipFactory(project=project, user=user, role=role)
    return user


def test_an_annotator_answers_a_ranking_and_a_reviewer_reads_it() -> None:
    project = project_create(name="ranks", label_scheme="ranking")
    (item,) = make_items(project, 1, k=3)
    annie = client_for(member(project, "annie", "annotator"))
    served = annie.post(f"/api/projects/{project.pk}/items/next/")
    assert served.status_code == 200
    body = served.json()
    assert body["kind"] == "ranking"
    assert [r["number"] for r in body["responses"]] == [1, 2, 3]
    assert sorted(r["position"] for r in body["responses"]) == [0, 1, 2]
    assert "model" not in body["responses"][0]
    by_text = {r["text"]: r["position"] for r in body["responses"]}
    best_first = [by_text["Response 0.2"], by_text["Response 0.0"], by_text["Response 0.1"]]
    url = f"/api/projects/{project.pk}/answers/"
    bad = annie.post(
        url,
        {"token": body["token"], "round": 0, "payload": {"tiers": [[0], [0, 1, 2]]}},
        format="json",
    )
    assert bad.status_code == 400
    assert "payload.tiers.1.0" in bad.json()["error"]["fields"]
    request = {"token": body["token"], "round": 0, "payload": {"tiers": [[p] for p in best_first]}}
    stored = annie.post(url, request, format="json")
    assert stored.status_code == 201 and stored.json()["status"] == "stored"
    assert annie.post(url, request, format="json").status_code == 200  # a retry
    assert Vote.objects.count() == 3
    assert annie.post(f"/api/projects/{project.pk}/items/next/").status_code == 204
    # annotators never read items with answers; reviewers do
    assert annie.get(f"/api/projects/{project.pk}/items/{item.pk}/").status_code in (403, 404)
    rev = client_for(member(project, "rev", "reviewer"))
    detail = rev.get(f"/api/projects/{project.pk}/items/{item.pk}/").json()
    assert [r["text"] for r in detail["responses"]] == [
        "Response 0.0",
        "Response 0.1",
        "Response 0.2",
    ]
    assert detail["answers"][0]["payload"] == {"tiers": [[2], [0], [1]]}
    assert detail["derived_pairs"] == 3
    listed = rev.get(f"/api/projects/{project.pk}/items/").json()["results"]
    assert [(i["id"], i["responses"], i["answers"]) for i in listed] == [(item.pk, 3, 1)]
    project_body = rev.get(f"/api/projects/{project.pk}/").json()
    assert (project_body["label_scheme"], project_body["items"]) == ("ranking", 1)
    assert ItemAnswer.objects.get().shown_order == [r["position"] for r in body["responses"]]


def test_pair_endpoints_point_to_items_and_a_pair_project_has_none() -> None:
    project = project_create(name="rated", label_scheme="rating")
    make_items(project, 1, k=2)
    annie = client_for(member(project, "annie", "annotator"))
    wrong = annie.post(f"/api/projects/{project.pk}/assignments/next/")
    assert wrong.status_code == 409 and "items/next" in wrong.json()["error"]["message"]
    pairs = project_create(name="pairs")
    client = client_for(member(pairs, "pat", "reviewer"))
    assert client.get(f"/api/projects/{pairs.pk}/items/").json()["results"] == []
    assert client.post(f"/api/projects/{pairs.pk}/items/next/").status_code == 409
