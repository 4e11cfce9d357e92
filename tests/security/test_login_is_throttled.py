"""Guessing passwords locks the username for that address, on the page and the API alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory


def login(client: Client, username: str, password: str) -> Any:
    return client.post("/login/", {"username": username, "password": password})


@pytest.mark.django_db
def test_it_locks_a_username_after_too_many_wrong_passwords() -> None:
    UserFactory(username="target")
    UserFactory(username="bystander")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = login(client, "target", "wrong")
        assert response.status_code == 200  # the form again, with its error
        assert b"Please enter a correct username" in response.content
    locked = login(client, "target", "wrong")
    assert locked.status_code == 429
    # locked: even the right password is refused now, and nobody is logged in
    again = login(client, "target", PASSWORD)
    assert again.status_code == 429
    assert b"Too many failed logins" in again.content
    assert "_auth_user_id" not in client.session
    # another account from the same address is not punished for it
    assert login(Client(), "bystander", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_api_token_endpoint_shares_the_lockout() -> None:
    UserFactory(username="target")
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            "/api/auth/token/", {"username": "target", "password": "wrong"}, format="json"
        )
        assert response.status_code in (400, 429)
    response = client.post(
        "/api/auth/token/", {"username": "target", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert "token" not in response.content.decode()


@pytest.mark.django_db
def test_a_good_password_resets_the_count() -> None:
    UserFactory(username="typo")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "typo", "wrong")
    assert login(client, "typo", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "typo", "wrong").status_code == 200
    assert login(client, "typo", PASSWORD).status_code == 302
