"""Roles and projects: someone else's work is a 404; annotators are blind to other votes."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.labelling.helpers import annotator, lease, make_pairs
from webapp.labelling import services
from webapp.labelling.models import Vote

pytestmark = pytest.mark.django_db


def test_someone_elses_assignment_is_a_404(client: Any, project: Any) -> None:
    make_pairs(project, 2)
    ann, other = annotator(project, "ann"), annotator(project, "other")
    held = lease(project, ann)
    assert held is not None
    client.force_login(other)
    for name in ("vote", "skip"):
        data = {"token": held.token, "round": 0, "choice": "tie"}
        response = client.post(reverse(f"labelling:{name}", args=[project.pk]), data)
        assert response.status_code == 404
    assert not Vote.objects.exists()


def test_an_assignment_from_another_project_is_a_404(client: Any, project: Any) -> None:
    elsewhere = ProjectFactory(name="Elsewhere")
    make_pairs(elsewhere, 1)
    ann = annotator(elsewhere, "ann")
    MembershipFactory(project=project, user=ann)
    held = lease(elsewhere, ann)
    assert held is not None
    client.force_login(ann)
    data = {"token": held.token, "round": 0, "choice": "tie"}
    assert client.post(reverse("labelling:vote", args=[project.pk]), data).status_code == 404


def test_a_stranger_gets_a_404_on_every_labelling_url(client: Any, project: Any) -> None:
    client.force_login(UserFactory(username="stranger"))
    for name in ("page", "progress", "agreement", "gold"):
        assert client.get(reverse(f"labelling:{name}", args=[project.pk])).status_code == 404
    for name in ("next", "vote", "skip", "undo"):
        assert client.post(reverse(f"labelling:{name}", args=[project.pk])).status_code == 404
    assert client.get(reverse("projects:settings", args=[project.pk])).status_code == 404


def test_annotators_see_neither_agreement_gold_nor_settings(client: Any, project: Any) -> None:
    client.force_login(annotator(project, "ann"))
    assert client.get(reverse("labelling:page", args=[project.pk])).status_code == 200
    for url in (
        reverse("labelling:agreement", args=[project.pk]),
        reverse("labelling:gold", args=[project.pk]),
        reverse("projects:settings", args=[project.pk]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("labelling:agreement", args=[project.pk])).status_code == 404


def test_reviewers_see_agreement_but_cannot_recompute_it(client: Any, project: Any) -> None:
    client.force_login(annotator(project, "rev", role="reviewer"))
    url = reverse("labelling:agreement", args=[project.pk])
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 404


def test_the_labelling_page_is_blind(client: Any, project: Any, admin_user: Any) -> None:
    pair = make_pairs(project, 1, a="alpha text", b="beta text", model_a="secret-model-7b")[0]
    Vote.objects.create(pair=pair, annotator=admin_user, choice="a", rationale="ADMIN-REASON")
    ann = annotator(project, "ann")
    client.force_login(ann)
    page = client.get(reverse("labelling:page", args=[project.pk])).content.decode()
    assert "alpha text" in page and "beta text" in page
    for leak in ("secret-model-7b", "ADMIN-REASON", admin_user.username, "A is better"):
        assert leak not in page


def test_next_and_vote_take_a_handful_of_queries(
    client: Any, project: Any, django_assert_max_num_queries: Any
) -> None:
    make_pairs(project, 5)
    ann = annotator(project, "ann")
    client.force_login(ann)
    client.get(reverse("labelling:page", args=[project.pk]))  # warm: session, reclaim timer
    # session, user, project and role, the lease, the pair; the savepoints around the lease
    # exist only because the test runs inside a transaction
    with django_assert_max_num_queries(7):
        response = client.post(reverse("labelling:next", args=[project.pk]))
    token = response.content.decode().split('data-token="')[1].split('"')[0]
    data = {"token": token, "round": 0, "choice": "tie", "prefetch": "1"}
    with django_assert_max_num_queries(10):  # the same three, the vote, then as above
        response = client.post(reverse("labelling:vote", args=[project.pk]), data)
    assert response["X-Vote-Status"] == "stored"


def test_the_annotator_home_lists_my_projects_and_my_progress(client: Any, project: Any) -> None:
    make_pairs(project, 3)
    ann = annotator(project, "ann")
    held = lease(project, ann)
    assert held is not None
    services.vote_submit(project=project, annotator=ann, token=held.token, round=0, side="tie")
    ProjectFactory(name="Not mine")
    client.force_login(ann)
    page = client.get(reverse("labelling:home")).content.decode()
    assert "Test project" in page and "Not mine" not in page
    assert "<td>annotator</td>\n      <td>1</td>" in page  # role, then my votes
    assert "1 / 9 votes" in page
