"""Sessions and users are looked up in SQL of PrefLab's own (webapp/ops/sessions.py, auth.py):
a session still ends when its user logs out, is made inactive or changes their password, and
project access still follows the membership row."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _home(client: Any) -> int:
    return int(client.get(reverse("labelling:home")).status_code)


def test_a_session_ends_at_logout_and_with_its_user(client: Any) -> None:
    user = UserFactory(username="ann")
    assert client.login(username="ann", password=PASSWORD)
    assert _home(client) == 200
    client.post(reverse("logout"))
    assert _home(client) == 302  # to the login page

    assert client.login(username="ann", password=PASSWORD)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert _home(client) == 302

    user.is_active = True
    user.save(update_fields=["is_active"])
    assert client.login(username="ann", password=PASSWORD)
    user.set_password("another-long-password")
    user.save(update_fields=["password"])
    assert _home(client) == 302


def test_project_access_follows_the_membership(client: Any) -> None:
    project = ProjectFactory(name="P", strength_scale=["a bit", "a lot"])
    user = UserFactory(username="ann")
    client.force_login(user)
    page = reverse("labelling:page", args=[project.pk])
    assert client.get(page).status_code == 404
    membership = MembershipFactory(project=project, user=user)
    response = client.get(page)
    assert response.status_code == 200
    assert b"a lot" in response.content  # the project's JSON settings come through decoded
    membership.delete()
    assert client.get(page).status_code == 404
