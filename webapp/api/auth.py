"""The API's token endpoint, throttled like the login page."""

from __future__ import annotations

from typing import Any

from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response


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
