"""Labelling through the API, blind: the next pair to label, votes and skips.

The next pair and the vote, which an API client asks for with every vote, are answered first
on the labelling page's path (webapp/api/fast.py): plain views on prepared SQL, the DRF views
behind them answering everything else, with the same services and the same JSON.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.auth import token_user
from webapp.api.common import project_for_request, validated
from webapp.api.errors import ERRORS, READ_ERRORS, ErrorSerializer, error_body
from webapp.api.fast import answer_first, json_body, json_response
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
from webapp.projects.models import MAX_STRENGTH_LEVELS, Membership, Project
from webapp.projects.schemes import labels_items
from webapp.projects.selectors import project_for_user


def _assignment_data(assignment: Assignment, project: Project) -> dict[str, Any]:
    pair = assignment.pair
    assert pair is not None, "a pairwise project's assignments serve pairs"
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
        "strength_required": project.strength_required,
    }


# One instance each, their fields built once: a serializer built per request deep-copies its
# declared fields, a good part of a fast request's time.
_ASSIGNMENT = AssignmentSerializer()
_VOTE_RESULT = VoteResultSerializer()


def _next(project: Project, annotator: Any) -> dict[str, Any] | None:
    """The assignment to answer with (a lease the annotator holds, else a new one), as the
    schema has it; None if no pair is open for them."""
    leases.leases_reclaim_if_due(project=project)
    assignment_id = labelling_selectors.assignment_live_id(project=project, annotator=annotator)
    if assignment_id is None:
        assignment_id = queue.assignment_next(project=project, annotator=annotator)
        if assignment_id is None:
            return None
    assignment = labelling_selectors.assignment_to_show(assignment_id=assignment_id)
    return dict(_ASSIGNMENT.to_representation(_assignment_data(assignment, project)))


def _vote(project: Project, annotator: Any, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Store the vote ``data`` (as VoteRequestSerializer validates it): the status and body
    to answer with."""
    try:
        result = labelling.vote_submit(
            project=project,
            annotator=annotator,
            token=data["token"],
            round=data["round"],
            side=data["choice"],
            strength=data.get("strength"),
            rationale=data.get("rationale", ""),
            time_taken_ms=data.get("time_ms"),
        )
    except labelling.LabellingError as exc:
        fields = {exc.field: [str(exc)]}
        return 400, error_body(400, "invalid", f"{exc.field}: {exc}", fields)
    except Assignment.DoesNotExist:
        return 404, error_body(404, "not_found", "No such assignment")
    if result.status in ("stale", "not_needed"):
        message = (
            "This lease was undone or skipped since: fetch the pair again."
            if result.status == "stale"
            else "Your lease expired and the pair has all the votes it wants."
        )
        return 409, error_body(409, result.status, message)
    body = _VOTE_RESULT.to_representation({"status": result.status, "vote": result.vote_id})
    return (201 if result.status == "stored" else 200), dict(body)


def _caller(request: HttpRequest, project_id: int) -> tuple[Project, Any] | None:
    """The project and the annotator a token-authenticated request labels as; None where the
    DRF view should answer (no token, a project that is not theirs)."""
    user = token_user(request)
    if user is None:
        return None
    try:
        project, _ = project_for_user(
            user=user, project_id=project_id, min_role=Membership.Role.ANNOTATOR
        )
    except Http404:
        return None
    if labels_items(project):
        return None  # the DRF view says where items are served
    return project, user


def _is_int(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _plain_text(value: str) -> bool:
    """No character DRF's CharField refuses (NUL, a lone surrogate)."""
    return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)


def _plain_vote(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """A vote's JSON as VoteRequestSerializer would take it, where it is plainly valid (the
    right types, in range); None for anything else, which the DRF view then validates."""
    if raw is None or not isinstance(raw.get("token"), str):
        return None
    try:
        token = uuid.UUID(raw["token"])
    except ValueError:
        return None
    rationale = raw.get("rationale", "")
    strength, time_ms = raw.get("strength"), raw.get("time_ms")
    if not (
        _is_int(raw.get("round"), 0, 32767)
        and raw.get("choice") in labelling.SIDES
        and (strength is None or _is_int(strength, 0, MAX_STRENGTH_LEVELS - 1))
        and (time_ms is None or _is_int(time_ms, 0, 2_000_000_000))
        and isinstance(rationale, str)
        and len(rationale := rationale.strip()) <= 5000
        and _plain_text(rationale)
    ):
        return None
    return {**raw, "token": token, "rationale": rationale}


def _next_fast(request: HttpRequest, project_id: int) -> HttpResponse | None:
    caller = _caller(request, project_id)
    if caller is None:
        return None
    body = _next(*caller)
    return json_response(204, None) if body is None else json_response(200, body)


def _vote_fast(request: HttpRequest, project_id: int) -> HttpResponse | None:
    data = _plain_vote(json_body(request))
    caller = _caller(request, project_id) if data is not None else None
    if data is None or caller is None:
        return None
    return json_response(*_vote(*caller, data))


@answer_first(_next_fast)
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
    if labels_items(project):
        message = "This project labels items: POST items/next/ and answers/ instead."
        return Response(error_body(409, "labels_items", message), status=409)
    body = _next(project, request.user)
    if body is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(body)


# Votes and skips are documented as JSON, which has a null for an absent strength or time;
# forms are still read (as the labelling page posts them), but cannot say null.
@answer_first(_vote_fast)
@extend_schema(
    request={"application/json": VoteRequestSerializer},
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
    code, body = _vote(project, request.user, validated(VoteRequestSerializer, request.data))
    return Response(body, status=code)


@extend_schema(
    request={"application/json": SkipRequestSerializer},
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
