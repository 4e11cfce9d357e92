from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, ProjectFactory, UserFactory


def client_for(user: Any) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api_admin(project: Any, admin_user: Any) -> APIClient:
    return client_for(admin_user)


@pytest.fixture
def annotator(project: Any) -> Any:
    user = UserFactory(username="annie")
    MembershipFactory(project=project, user=user, role="annotator")
    return user


@pytest.fixture
def reviewer(project: Any) -> Any:
    user = UserFactory(username="rev")
    MembershipFactory(project=project, user=user, role="reviewer")
    return user


@pytest.fixture
def other_project(db: Any) -> Any:
    other = ProjectFactory(name="Someone else's")
    MembershipFactory(project=other, user=UserFactory(username="stranger"), role="admin")
    return other
