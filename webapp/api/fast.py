"""The API's labelling requests on the labelling page's path: plain Django views first, DRF
behind them.

An API client labels with two requests a vote (the next pair, then the vote), each through
DRF's request wrapping, content negotiation, authentication (an ORM query for the token),
parsers, serializers and renderer: about twice the CPU of the page's one request a vote,
which is plain Django on prepared SQL (webapp/dbbackend/prepared.py). ``answer_first`` puts
a plain view in front of a DRF view: the plain view answers the common request itself (a
token, a JSON body it can read, a project the user may label in) with the same services and
the same JSON as the DRF view, and hands anything else to the DRF view (which also keeps the
endpoint in the OpenAPI schema): another method, a session login, a form, a body it does not
take as it is, a project that is not there. It hands over only before it has written
anything, so the DRF view answers such a request exactly as it always did.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.renderers import JSONRenderer

from webapp.api.errors import DATABASE_ERRORS, UNAVAILABLE_HEADERS, unavailable

FastView = Callable[..., HttpResponse | None]

_RENDERER = JSONRenderer()


def json_response(status: int, data: Any, *, headers: dict[str, str] | None = None) -> HttpResponse:
    """``data`` as DRF's JSON renderer writes it."""
    body = b"" if data is None else _RENDERER.render(data)
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def json_body(request: HttpRequest) -> dict[str, Any] | None:
    """The request's JSON object, or None where it is not one (DRF's parsers then say why)."""
    if request.content_type != "application/json":
        return None
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def answer_first(fast: FastView) -> Callable[[Any], Any]:
    """Decorate a DRF view with ``fast``, which answers first and returns None for every
    request it leaves to the DRF view. A database outage during ``fast`` is the API's 503."""

    def decorate(drf_view: Any) -> Any:
        allow = ", ".join(drf_view.cls().allowed_methods)  # the header a DRF view sends

        # wraps copies the DRF view's attributes (its class for the schema, csrf_exempt)
        @wraps(drf_view)
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            try:
                response = fast(request, **kwargs) if request.method == "POST" else None
            except DATABASE_ERRORS as exc:
                body = unavailable(exc, fast.__name__)
                response = json_response(503, body, headers=UNAVAILABLE_HEADERS)
            if response is None:
                return drf_view(request, **kwargs)
            response["Allow"] = allow
            return response

        return csrf_exempt(view)

    return decorate
