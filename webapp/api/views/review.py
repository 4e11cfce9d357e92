"""Review decisions: deciding on one pair (or undoing), every pair of a filter in bulk, and the
log of decisions per project and per pair. For reviewers and admins."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import cursor_page, project_for_request, validated
from webapp.api.errors import CONFLICT, ERRORS, READ_ERRORS, Conflict
from webapp.api.serializers.review import (
    ReviewBulkRequestSerializer,
    ReviewBulkResultSerializer,
    ReviewDecisionPageSerializer,
    ReviewDecisionRequestSerializer,
    ReviewDecisionSerializer,
)
from webapp.pairs.models import Pair
from webapp.projects.models import Membership
from webapp.review import decisions
from webapp.review import selectors as review_selectors
from webapp.review.filters import FilterError, QueueFilter


def _refused(exc: decisions.ReviewError) -> Exception:
    """The API error for a decision the review stage refused: a pair or flag that is not
    there is a 404, a state that does not allow it a 409, anything else a 400."""
    if isinstance(exc, decisions.ReviewNotFound):
        return NotFound(str(exc))
    if isinstance(exc, decisions.ReviewConflict):
        return Conflict(str(exc))
    return ValidationError({"action": [str(exc)]})


def _decision_page(request: Request, qs: Any) -> Response:
    """Decisions newest first, 50 a page."""
    return cursor_page(request, qs, ReviewDecisionSerializer, ordering="-id", page_size=50)


@extend_schema(
    operation_id="projects_review_decisions",
    methods=["GET"],
    responses={200: ReviewDecisionPageSerializer, **READ_ERRORS},
    tags=["review"],
)
@extend_schema(
    operation_id="projects_review_decide",
    methods=["POST"],
    request=ReviewDecisionRequestSerializer,
    responses={201: ReviewDecisionSerializer, **ERRORS, **CONFLICT},
    tags=["review"],
)
@api_view(["GET", "POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def review_decisions(request: Request, project_id: int) -> Response:
    """GET: the project's review decisions, newest first. POST: decide on one pair (keep,
    flip, tie, drop, more_votes with ``votes``, or undo its latest decision). Reviewers."""
    project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
    if request.method == "GET":
        return _decision_page(request, review_selectors.decisions_for_project(project=project))
    data = validated(ReviewDecisionRequestSerializer, request.data)
    try:
        if data["action"] == "undo":
            decision = decisions.review_undo(
                project=project, pair_id=data["pair"], reviewer=request.user,
                reason=data.get("reason", ""),
            )  # fmt: skip
        else:
            decision = decisions.review_decide(
                project=project, pair_id=data["pair"], action=data["action"],
                reviewer=request.user, reason=data.get("reason", ""),
                votes=data["votes"], flag_id=data.get("flag"),
            )  # fmt: skip
    except decisions.ReviewError as exc:
        raise _refused(exc) from exc
    return Response(ReviewDecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


@extend_schema(
    operation_id="projects_pairs_review_decisions",
    responses={200: ReviewDecisionPageSerializer, **READ_ERRORS},
    tags=["review"],
)
@api_view(["GET"])
def pair_review_decisions(request: Request, project_id: int, pair_id: int) -> Response:
    """Every review decision on one pair, newest first."""
    project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
    if not Pair.objects.filter(project=project, pk=pair_id).exists():
        raise NotFound("No such pair")
    return _decision_page(
        request, review_selectors.decisions_for_pair(project=project, pair_id=pair_id)
    )


@extend_schema(
    request=ReviewBulkRequestSerializer,
    responses={
        200: OpenApiResponse(ReviewBulkResultSerializer, description="Preview: a count."),
        201: OpenApiResponse(ReviewBulkResultSerializer, description="Decided."),
        **ERRORS,
    },
    tags=["review"],
)
@api_view(["POST"])
@parser_classes([JSONParser])
def review_bulk(request: Request, project_id: int) -> Response:
    """One action on every flagged pair of a filter (the review queue's filters). Without
    ``confirm`` it only counts the pairs; with ``confirm: true`` it decides them."""
    project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
    data = validated(ReviewBulkRequestSerializer, request.data)
    try:
        queue_filter = QueueFilter.parse(data.get("filter") or {})
    except FilterError as exc:
        raise ValidationError({"filter": [str(exc)]}) from exc
    action = data["action"]
    body: dict[str, Any] = {"action": action, "filter": queue_filter.as_dict(), "bulk": None}
    try:
        if not data.get("confirm"):
            body["count"] = decisions.review_bulk_preview(
                project=project, queue_filter=queue_filter, action=action
            )
            body["confirmed"] = False
            return Response(ReviewBulkResultSerializer(body).data)
        bulk = decisions.review_bulk_apply(
            project=project, queue_filter=queue_filter, action=action, reviewer=request.user,
            reason=data.get("reason", ""), votes=data["votes"],
        )  # fmt: skip
    except decisions.ReviewError as exc:
        raise _refused(exc) from exc
    body.update(count=bulk.n_pairs, confirmed=True, bulk=bulk.pk)
    return Response(ReviewBulkResultSerializer(body).data, status=status.HTTP_201_CREATED)
