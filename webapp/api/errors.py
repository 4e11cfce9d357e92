"""Every API error is JSON of one shape, with a message a person can act on:

    {"error": {"status": 404, "code": "not_found", "message": "No such project",
               "fields": {"strength": ["..."]}}}

``fields`` is there for validation errors only. A database that cannot be reached (restarting,
failing over) is a 503 with Retry-After, which clients may retry; other unexpected exceptions
are logged and answered with a 500 of the same shape, never a traceback or an HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger("preflab.api")


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False)  # type: ignore[assignment]


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# The error answers endpoints list in the schema: ERRORS where the request has a body or
# filters to reject, READ_ERRORS where it has none.
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="The request is not valid."),
    401: OpenApiResponse(ErrorSerializer, description="No or a bad token."),
    404: OpenApiResponse(ErrorSerializer, description="No such object (or not yours)."),
}
READ_ERRORS = {401: ERRORS[401], 404: ERRORS[404]}
# A well-formed request that the object's state refuses now (nothing to undo, say).
CONFLICT = {409: OpenApiResponse(ErrorSerializer, description="Not possible in this state.")}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Not possible in this state."
    default_code = "conflict"


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _first_message(value)
            return inner if key in ("non_field_errors", "detail", "__all__") else f"{key}: {inner}"
        return "invalid request"
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else "invalid request"
    return str(detail)


def error_body(status_code: int, code: str, message: str, fields: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status_code, "code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


DATABASE_ERRORS = (OperationalError, InterfaceError)
UNAVAILABLE_HEADERS = {"Retry-After": "2"}


def unavailable(exc: Exception, view: Any) -> dict[str, Any]:
    """The body of the 503 that answers a request the database could not serve (logged)."""
    log.warning("API request in %s: database unavailable: %s", view, exc)
    message = "The database is unavailable for a moment; nothing was stored. Try again."
    return error_body(503, "unavailable", message)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found")
    response = drf_exception_handler(exc, context)
    if response is None and isinstance(exc, DATABASE_ERRORS):
        return Response(
            unavailable(exc, context.get("view")),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers=UNAVAILABLE_HEADERS,
        )
    if response is None:
        log.exception("API error in %s", context.get("view"), exc_info=exc)
        return Response(
            error_body(500, "server_error", "Something went wrong on our side; it was logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else None
        message = _first_message(exc.detail)
        code = "invalid"
    else:
        fields, message = None, _first_message(exc.detail)
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
    response.data = error_body(response.status_code, str(code), message, fields)
    return response


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/ address that names no endpoint."""
    return JsonResponse(error_body(404, "not_found", "No such API endpoint"), status=404)
