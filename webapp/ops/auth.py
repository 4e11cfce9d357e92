"""Logging in: the login throttle (django-axes) and the backend that loads users.

Every request of a logged-in user loads the user by the id in their session; the ORM's query
compiler and PostgreSQL's planner cost more CPU than the query itself (see
webapp/dbbackend/prepared.py), so that lookup is prepared SQL. Logging in, passwords and
permissions are Django's ModelBackend's own.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import backends, get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from webapp.dbbackend import prepared


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, skipped when there is no request to throttle.

    A login without a request (Django's test client, a shell, a management command) has no
    address to count failures against; axes would refuse it outright. Every login over HTTP
    (the login page, the admin, the API's token endpoint) passes its request and is checked.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        pk = model._meta.pk
        assert pk is not None
        try:
            key = pk.to_python(user_id)
        except ValidationError:
            return None
        with prepared.cursor() as cursor:
            cursor.execute(
                f"SELECT {prepared.columns(model, 'u')} FROM {model._meta.db_table} u "
                f"WHERE u.{pk.column} = %s",
                [key],
            )
            row = cursor.fetchone()
        user = prepared.instance(model, row) if row else None
        return user if user is not None and self.user_can_authenticate(user) else None
