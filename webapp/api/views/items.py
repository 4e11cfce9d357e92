"""Items and answers through the API: reviewers read items with their answers; annotators are
served items blind and answer them, as the labelling page does (the same queue and services)."""

from __future__ import annotations

from django.db.models import Count, F, Prefetch, QuerySet
from django.db.models.functions import Left, Length
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.answering import answer_stored, item_lease_id
from webapp.api.common import cursor_page, project_for_request, validated
from webapp.api.errors import ERRORS, READ_ERRORS, ErrorSerializer, error_body
from webapp.api.serializers.items import (
    AnswerRequestSerializer,
    AnswerResultSerializer,
    ItemAssignmentSerializer,
    ItemPageSerializer,
    ItemPreviewSerializer,
    ItemSerializer,
)
from webapp.labelling.item_views import shown_item
from webapp.labelling.models import ItemAnswer
from webapp.labelling.payloads import kind_asked
from webapp.pairs.models import Item, ItemResponse
from webapp.pairs.previews import PREVIEW_CHARS
from webapp.projects.models import Membership
from webapp.projects.schemes import labels_items, scheme_settings_of


def _labels_pairs() -> Response:
    message = "This project labels pairs: POST assignments/next/ and votes/ instead."
    return Response(error_body(409, "labels_pairs", message), status=409)


@extend_schema(
    operation_id="projects_items_list",
    responses={200: ItemPageSerializer, **ERRORS},
    tags=["items"],
)
@api_view(["GET"])
def item_list(request: Request, project_id: int) -> Response:
    """The project's items in id order, a page at a time, prompts as bounded previews (none in
    a project that labels pairs)."""
    project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
    qs: QuerySet[Item] = Item.objects.filter(project=project).annotate(
        prompt_preview=Left(F("prompt__transcript"), PREVIEW_CHARS),
        prompt_length=Length(F("prompt__transcript")),
        n_responses=Count("responses", distinct=True),
        n_answers=Count("answers", distinct=True),
    )
    return cursor_page(request, qs, ItemPreviewSerializer, ordering="id", page_size=50)


@extend_schema(responses={200: ItemSerializer, **READ_ERRORS}, tags=["items"])
@api_view(["GET"])
def item_detail(request: Request, project_id: int, item_id: int) -> Response:
    """One item: its texts whole, every answer on it, and how many pairs they derived."""
    project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
    item = (
        Item.objects.filter(project=project, pk=item_id)
        .select_related("prompt")
        .annotate(n_pairs=Count("derived_pairs"))
        .prefetch_related(
            Prefetch(
                "responses",
                ItemResponse.objects.select_related("response").order_by("position"),
                to_attr="ordered_responses",
            ),
            Prefetch("answers", ItemAnswer.objects.order_by("id"), to_attr="ordered_answers"),
        )
        .first()
    )
    if item is None:
        raise NotFound("No such item")
    return Response(ItemSerializer(item).data)


@extend_schema(
    request=None,
    responses={
        200: ItemAssignmentSerializer,
        204: OpenApiResponse(description="No item is open for you."),
        409: OpenApiResponse(ErrorSerializer, description="The project labels pairs."),
        **READ_ERRORS,
    },
    tags=["items"],
)
@api_view(["POST"])
def item_next(request: Request, project_id: int) -> Response:
    """The item to answer next, blind: a lease you already hold, else a newly leased one."""
    project, _ = project_for_request(request, project_id, Membership.Role.ANNOTATOR)
    if not labels_items(project):
        return _labels_pairs()
    assignment_id = item_lease_id(request=request, project=project)
    if assignment_id is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    shown = shown_item(project=project, assignment_id=assignment_id)
    settings = scheme_settings_of(project)
    body = {
        "token": shown.assignment.token,
        "round": shown.assignment.round,
        "expires_at": shown.assignment.expires_at,
        "kind": kind_asked(scheme=project.label_scheme, settings=settings),
        "prompt": shown.prompt.text,
        "conversation": shown.prompt.conversation,
        "responses": [
            {"number": r.number, "position": r.position, "text": r.text} for r in shown.responses
        ],
        "attributes": [
            {"name": a.name, "low": a.low, "high": a.high, "description": a.description}
            for a in settings.attributes
        ],
    }
    return Response(ItemAssignmentSerializer(body).data)


@extend_schema(
    request={"application/json": AnswerRequestSerializer},
    responses={
        201: AnswerResultSerializer,
        200: OpenApiResponse(AnswerResultSerializer, description="Already stored (a retry)."),
        409: OpenApiResponse(
            ErrorSerializer, description="Undone, skipped, not needed, or a pair project."
        ),
        **ERRORS,
    },
    tags=["items"],
)
@api_view(["POST"])
def answer_create(request: Request, project_id: int) -> Response:
    """Answer the item a lease (token, round) serves; its votes on the item's pairs are
    derived at once. Retrying the same request is safe. A bad payload is a 400 naming the
    field (``payload.tiers.1.0``, ``payload.ratings.2.helpfulness``)."""
    project, _ = project_for_request(request, project_id, Membership.Role.ANNOTATOR)
    if not labels_items(project):
        return _labels_pairs()
    data = validated(AnswerRequestSerializer, request.data)
    return answer_stored(request=request, project=project, data=data, payload=data["payload"])
