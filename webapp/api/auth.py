"""The API's token endpoint, throttled like the login page, and the token lookup of the
labelling requests' fast path (webapp/api/fast.py)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.dbbackend import prepared


@cache
def _token_user_sql() -> str:
    user = get_user_model()
    pk = user._meta.pk
    assert pk is not None
    return (
        f"SELECT {prepared.columns(user, 'u')} FROM {Token._meta.db_table} t "
        f"JOIN {user._meta.db_table} u ON u.{pk.column} = t.user_id WHERE t.key = %s"
    )


def token_user(request: Any) -> Any:
    """The active user whose token the request's ``Authorization: Token <key>`` header
    carries, looked up with one prepared statement; None for any other request (no such
    header, a malformed one, an unknown key, an inactive user), which DRF's own
    TokenAuthentication then answers as it always does."""
    words = request.headers.get("authorization", "").split()
    if len(words) != 2 or words[0].lower() != "token":
        return None
    with prepared.cursor() as cursor:
        cursor.execute(_token_user_sql(), [words[1]])
        row = cursor.fetchone()
    user = prepared.instance(get_user_model(), row) if row else None
    return user if user is not None and user.is_active else None


class TokenObtain(ObtainAuthToken):
    """``POST username, password`` -> ``{"token": ...}``; 429 while the login is locked out.

    django-axes marks a locked-out attempt on the request it was given, which here is DRF's
    wrapper rather than the Django request its middleware answers, so the check is made here.
    """

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()  # one authenticate(): each failure counts once
        if getattr(request, "axes_locked_out", False):
            raise Throttled(detail="Too many failed logins for this username; try again later.")
        if not valid:
            raise ValidationError(serializer.errors)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
