from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
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


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The app as a WSGI callable, for schemathesis to call in process."""
    # As Django's test client does: a request must not close the test's own connection (and
    # with it the transaction the test runs in).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def bounded_cases(
    operation: Any, examples: int, **strategy: Any
) -> Callable[[Callable[[Any], None]], Callable[[], None]]:
    """Run the decorated check on ``examples`` cases schemathesis generates for ``operation``
    (positive data, the same ones each run, no deadline per example)."""

    def decorate(check: Callable[[Any], None]) -> Callable[[], None]:
        bounded = settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        run: Callable[[], None] = given(case=operation.as_strategy(**strategy))(bounded(check))
        return run

    return decorate
