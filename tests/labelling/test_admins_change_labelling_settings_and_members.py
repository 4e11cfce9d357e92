"""The project admin page: labelling settings, members and roles, progress."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.labelling.helpers import annotator, make_pairs
from webapp.labelling.models import QueueItem
from webapp.projects.models import Membership

pytestmark = pytest.mark.django_db


def settings_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "guidelines": "Prefer **honest** answers.",
        "votes_per_pair": 5,
        "strength_scale": "a bit\na lot",
        "strength_required": "on",
        "queue_order": "fewest_votes",
        "lease_minutes": 20,
    }
    data.update(overrides)
    return data


def test_an_admin_changes_votes_wanted_guidelines_and_scale(
    admin_client: Any, project: Any
) -> None:
    make_pairs(project, 3)
    url = reverse("projects:settings", args=[project.pk])
    assert admin_client.post(url, settings_data()).status_code == 302
    project.refresh_from_db()
    assert project.strength_scale == ["a bit", "a lot"]
    assert (project.votes_per_pair, project.lease_minutes) == (5, 20)
    assert set(QueueItem.objects.values_list("wanted", flat=True)) == {5}
    page = admin_client.get(url).content.decode()
    assert "0 / 15" in page  # votes cast / wanted
    assert project.strength_required
    # an unchecked box makes the strength optional
    optional = {k: v for k, v in settings_data().items() if k != "strength_required"}
    assert admin_client.post(url, optional).status_code == 302
    project.refresh_from_db()
    assert not project.strength_required


def test_bad_settings_are_refused(admin_client: Any, project: Any) -> None:
    url = reverse("projects:settings", args=[project.pk])
    bad = settings_data(votes_per_pair=0, strength_scale="\n".join("x" * 10), queue_order="nope")
    response = admin_client.post(url, bad)
    assert response.status_code == 400
    project.refresh_from_db()
    assert project.votes_per_pair == 3


def test_an_admin_adds_a_member_changes_a_role_and_removes_them(
    admin_client: Any, project: Any
) -> None:
    UserFactory(username="newbie")
    url = reverse("projects:members", args=[project.pk])
    admin_client.post(url, {"action": "add", "username": "newbie", "role": "annotator"})
    member = Membership.objects.get(project=project, user__username="newbie")
    assert member.role == "annotator"
    admin_client.post(url, {"action": "role", "member": member.pk, "role": "reviewer"})
    member.refresh_from_db()
    assert member.role == "reviewer"
    admin_client.post(url, {"action": "remove", "member": member.pk})
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_an_admin_cannot_demote_themselves(
    admin_client: Any, project: Any, admin_user: Any
) -> None:
    me = Membership.objects.get(project=project, user=admin_user)
    url = reverse("projects:members", args=[project.pk])
    admin_client.post(url, {"action": "role", "member": me.pk, "role": "annotator"})
    me.refresh_from_db()
    assert me.role == "admin"


def test_annotators_cannot_manage_members(client: Any, project: Any) -> None:
    ann = annotator(project, "ann")
    client.force_login(ann)
    url = reverse("projects:members", args=[project.pk])
    response = client.post(url, {"action": "role", "member": 1, "role": "admin"})
    assert response.status_code == 404
    assert Membership.objects.get(user=ann).role == "annotator"
