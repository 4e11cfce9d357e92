"""Step labelling through the API: an annotator is served a solution blind, as the step page
shows it (the problem and its steps), and labels it, step by step or by its first error; the
same queue, leases and answer service as the page and the item endpoints."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.answering import answer_stored, item_lease_id
from webapp.api.common import project_for_request, validated
from webapp.api.errors import ERRORS, READ_ERRORS, ErrorSerializer, error_body
from webapp.api.serializers.items import AnswerResultSerializer
from webapp.api.serializers.steps import (
    STEP_LABELS,
    StepAnswerRequestSerializer,
    StepAssignmentSerializer,
)
from webapp.labelling.item_answers import item_step_count
from webapp.labelling.models import Assignment
from webapp.labelling.step_views import shown_steps
from webapp.pairs.steps import labels_from_first_error
from webapp.projects.models import Membership, Project

NOT_STEPS = OpenApiResponse(ErrorSerializer, description="The project does not label steps.")


def _not_steps() -> Response:
    message = "This project does not label steps: use items/ or assignments/ instead."
    return Response(error_body(409, "not_steps", message), status=409)


def _api_field(field: str) -> str:
    """The request's name for a field of the stored payload (``payload.steps.2``: ``labels.2``)."""
    if field == "payload.first_error":
        return "first_error"
    if field in ("payload", "payload.steps") or field.startswith("payload.steps."):
        return "labels" + field.removeprefix("payload").removeprefix(".steps")
    return field


def _payload(*, project: Project, request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """The answer's payload as the step page sends it: labels as +1 / 0 / -1, or, for a first
    error alone, the labels it implies."""
    labels = data.get("labels")
    if labels is not None:
        steps = [None if label is None else STEP_LABELS[label] for label in labels]
        return {"steps": steps, "first_error": data.get("first_error")}
    first_error: int = data["first_error"]  # the serializer asks for one of the two
    item_id = (
        Assignment.objects.filter(
            token=data["token"], project=project, annotator_id=request.user.pk
        )
        .values_list("item_id", flat=True)
        .first()
    )
    if item_id is None:
        raise NotFound("No such assignment")
    n_steps = item_step_count(item_id=item_id)
    if first_error >= n_steps:  # no labels to imply: the cleaner says what first_error may be
        return {"steps": [None] * n_steps, "first_error": first_error}
    return {"steps": labels_from_first_error(n_steps, first_error), "first_error": first_error}


@extend_schema(
    request=None,
    responses={
        200: StepAssignmentSerializer,
        204: OpenApiResponse(description="No solution is open for you."),
        409: NOT_STEPS,
        **READ_ERRORS,
    },
    tags=["steps"],
)
@api_view(["POST"])
def step_next(request: Request, project_id: int) -> Response:
    """The solution to label next, blind: a lease you already hold, else a newly leased one."""
    project, _ = project_for_request(request, project_id, Membership.Role.ANNOTATOR)
    if project.label_scheme != Project.LabelScheme.STEPS:
        return _not_steps()
    assignment_id = item_lease_id(request=request, project=project)
    if assignment_id is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    assignment = Assignment.objects.get(pk=assignment_id)
    assert assignment.item_id is not None  # a steps project leases items only
    shown = shown_steps(item_id=assignment.item_id)
    body = {
        "token": assignment.token,
        "round": assignment.round,
        "expires_at": assignment.expires_at,
        "problem": shown.problem.text,
        "conversation": shown.problem.conversation,
        "steps": [{"index": i, "text": text} for i, text in enumerate(shown.steps)],
    }
    return Response(StepAssignmentSerializer(body).data)


@extend_schema(
    request={"application/json": StepAnswerRequestSerializer},
    responses={
        201: AnswerResultSerializer,
        200: OpenApiResponse(AnswerResultSerializer, description="Already stored (a retry)."),
        409: OpenApiResponse(
            ErrorSerializer, description="Undone, skipped, not needed, or not a steps project."
        ),
        **ERRORS,
    },
    tags=["steps"],
)
@api_view(["POST"])
def step_answer_create(request: Request, project_id: int) -> Response:
    """Label the solution a lease (token, round) serves: ``labels``, one per step, or in
    first-error mode only ``first_error`` (-1: all steps correct), or both where they agree.
    Retrying the same request is safe. A bad answer is a 400 naming the field (``labels``,
    ``labels.2``, ``first_error``)."""
    project, _ = project_for_request(request, project_id, Membership.Role.ANNOTATOR)
    if project.label_scheme != Project.LabelScheme.STEPS:
        return _not_steps()
    data = validated(StepAnswerRequestSerializer, request.data)
    payload = _payload(project=project, request=request, data=data)
    return answer_stored(
        request=request, project=project, data=data, payload=payload, field_of=_api_field
    )
