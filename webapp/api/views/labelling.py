"""Labelling through the API, blind: the next pair to label, votes and skips."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import project_for_request, validated
from webapp.api.errors import ERRORS, READ_ERRORS, ErrorSerializer, error_body
from webapp.api.serializers.labelling import (
    AssignmentSerializer,
    SkipRequestSerializer,
    SkipResultSerializer,
    VoteRequestSerializer,
    VoteResultSerializer,
)
from webapp.labelling import leases, queue
from webapp.labelling import selectors as labelling_selectors
from webapp.labelling import services as labelling
from webapp.labelling.models import Assignment, Vote
from webapp.projects.models import Membership, Project


def _assignment_data(assignment: Assignment, project: Project) -> dict[str, Any]:
    pair = assignment.pair
    left, right = pair.response_a, pair.response_b
    if assignment.shown_order == Vote.Order.BA:
        left, right = right, left
    return {
        "token": assignment.token,
        "round": assignment.round,
        "expires_at": assignment.expires_at,
        "prompt": pair.prompt.text,
        "conversation": pair.prompt.conversation,
        "left": left.text,
        "right": right.text,
        "strength_scale": list(project.strength_scale or []),
    }


@extend_schema(
    request=None,
    responses={
        200: AssignmentSerializer,
        204: OpenApiResponse(description="No pair is open for you."),
        **READ_ERRORS,
    },
    tags=["labelling"],
)
@api_view(["POST"])
def assignment_next(request: Request, project_id: int) -> Response:
    """The pair to label next, blind: a lease you already hold, else a newly leased one."""
    project, _ = project_for_request(request, project_id, Membership.Role.ANNOTATOR)
    leases.leases_reclaim_if_due(project=project)
    held = labelling_selectors.assignments_live(project=project, annotator=request.user, limit=1)
    if held:
        assignment = held[0]
    else:
        new_id = queue.assignment_next(project=project, annotator=request.user)
        if new_id is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        assignment = labelling_selectors.assignment_to_show(assignment_id=new_id)
    return Response(AssignmentSerializer(_assignment_data(assignment, project)).data)


@extend_schema(
    request=VoteRequestSerializer,
    responses={
        201: VoteResultSerializer,
        200: OpenApiResponse(VoteResultSerializer, description="Already stored (a retry)."),
        409: OpenApiResponse(ErrorSerializer, description="Undone, skipped or not needed."),
        **ERRORS,
    },
    tags=["labelling"],
)
@api_view(["POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def vote_create(request: Request, project_id: int) -> Response:
    """Vote on the pair a lease (token, round) serves. Retrying the same request is safe."""
    project, _ = project_for_request(request, project_id, Membership.Role.ANNOTATOR)
    data = validated(VoteRequestSerializer, request.data)
    try:
        result = labelling.vote_submit(
            project=project,
            annotator=request.user,
            token=data["token"],
            round=data["round"],
            side=data["choice"],
            strength=data.get("strength"),
            rationale=data.get("rationale", ""),
            time_taken_ms=data.get("time_ms"),
        )
    except labelling.LabellingError as exc:
        raise ValidationError({"choice": [str(exc)]}) from exc
    except Assignment.DoesNotExist:
        raise NotFound("No such assignment") from None
    if result.status in ("stale", "not_needed"):
        message = (
            "This lease was undone or skipped since: fetch the pair again."
            if result.status == "stale"
            else "Your lease expired and the pair has all the votes it wants."
        )
        return Response(error_body(409, result.status, message), status=status.HTTP_409_CONFLICT)
    body = {"status": result.status, "vote": result.vote_id}
    code = status.HTTP_201_CREATED if result.status == "stored" else status.HTTP_200_OK
    return Response(VoteResultSerializer(body).data, status=code)


@extend_schema(
    request=SkipRequestSerializer,
    responses={200: SkipResultSerializer, **ERRORS},
    tags=["labelling"],
)
@api_view(["POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def assignment_skip(request: Request, project_id: int) -> Response:
    """Give a leased pair back without voting; it is not served to you again."""
    project, _ = project_for_request(request, project_id, Membership.Role.ANNOTATOR)
    data = validated(SkipRequestSerializer, request.data)
    try:
        skipped = labelling.assignment_skip(
            project=project, annotator=request.user, token=data["token"], round=data["round"]
        )
    except Assignment.DoesNotExist:
        raise NotFound("No such assignment") from None
    return Response({"skipped": skipped})
