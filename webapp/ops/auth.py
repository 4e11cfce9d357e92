"""Login throttling: django-axes' check, for logins that come over HTTP."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


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
