"""Admins mark gold pairs through the page; annotators' accuracy on them is shown."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.factories import ProjectFactory
from tests.labelling.helpers import annotator, lease, make_pairs, vote
from webapp.labelling.models import GoldAnswer

pytestmark = pytest.mark.django_db


def test_an_admin_marks_and_unmarks_a_gold_pair(admin_client: Any, project: Any) -> None:
    pair = make_pairs(project, 1)[0]
    url = reverse("labelling:gold", args=[project.pk])
    response = admin_client.post(url, {"pair": pair.pk, "choice": "b", "note": "checked twice"})
    assert response.status_code == 302
    gold = GoldAnswer.objects.get(pair=pair)
    assert (gold.choice, gold.note, gold.project_id) == ("b", "checked twice", project.pk)
    admin_client.post(url, {"pair": pair.pk, "action": "remove"})
    assert not GoldAnswer.objects.exists()


def test_a_pair_of_another_project_cannot_be_gold_here(admin_client: Any, project: Any) -> None:
    elsewhere = make_pairs(ProjectFactory(name="Elsewhere"), 1)[0]
    url = reverse("labelling:gold", args=[project.pk])
    response = admin_client.post(url, {"pair": elsewhere.pk, "choice": "a"})
    assert response.status_code == 400
    assert not GoldAnswer.objects.exists()


def test_accuracy_on_gold_pairs_is_shown_per_annotator(admin_client: Any, project: Any) -> None:
    project.votes_per_pair = 1
    project.save()
    pairs = make_pairs(project, 2)
    ann = annotator(project, "ann")
    for _ in pairs:
        held = lease(project, ann)
        assert held is not None
        vote(project, ann, held, side="tie")
    url = reverse("labelling:gold", args=[project.pk])
    admin_client.post(url, {"pair": pairs[0].pk, "choice": "tie"})
    admin_client.post(url, {"pair": pairs[1].pk, "choice": "a"})
    page = admin_client.get(url).content.decode()
    assert "<td>ann</td><td>2</td><td>1</td><td>50%</td>" in page
