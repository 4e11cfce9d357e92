"""What every resource's views share: the access gate, request validation and cursor pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.projects.models import Project
from webapp.projects.selectors import project_for_user


def project_for_request(request: Request, project_id: int, min_role: str) -> tuple[Project, str]:
    """The project and the caller's role in it; a 404 unless they hold at least ``min_role``."""
    return project_for_user(user=request.user, project_id=project_id, min_role=min_role)


def validated(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    """``data`` checked by ``serializer_class``; a 400 naming each bad field otherwise."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class Cursor(CursorPagination):
    """DRF's cursor pagination with the order and default size an endpoint gives it; a client
    may ask for up to 500 a page with ``page_size``."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def __init__(self, *, ordering: str, page_size: int) -> None:
        self.ordering = ordering
        self.page_size = page_size


def cursor_page(
    request: Request,
    items: Any,
    serializer_class: type[Any],
    *,
    ordering: str,
    page_size: int,
    prepare: Callable[[list[Any]], list[Any]] | None = None,
) -> Response:
    """The page of ``items`` (a queryset) that the request's cursor points at, rendered by
    ``serializer_class`` (after ``prepare``, given the page's objects), with links to the next
    and previous pages."""
    paginator = Cursor(ordering=ordering, page_size=page_size)
    page: list[Any] = paginator.paginate_queryset(items, request) or []
    if prepare is not None:
        page = prepare(page)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


# The shape of a cursor page, for the schema; each endpoint's subclass adds its ``results``.
class CursorPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
