"""A project's pairs with their imported labels: for reviewers and admins."""

from __future__ import annotations

from django.db.models import Count, F, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import cursor_page, project_for_request, validated
from webapp.api.errors import ERRORS, READ_ERRORS
from webapp.api.serializers.pairs import (
    PairFilterSerializer,
    PairPageSerializer,
    PairPreviewSerializer,
    PairSerializer,
)
from webapp.pairs.models import Pair
from webapp.pairs.previews import with_previews
from webapp.projects.models import Membership


@extend_schema(
    operation_id="projects_pairs_list",
    parameters=[PairFilterSerializer],
    responses={200: PairPageSerializer, **ERRORS},
    tags=["pairs"],
)
@api_view(["GET"])
def pair_list(request: Request, project_id: int) -> Response:
    """The project's pairs in id order, a page at a time (follow ``next``), their texts as
    bounded previews with their lengths. Reviewers and admins: pairs carry their imported
    labels."""
    project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
    filters = validated(PairFilterSerializer, request.query_params)
    qs: QuerySet[Pair] = Pair.objects.filter(project=project)
    if "split" in filters:
        qs = qs.filter(split=filters["split"])
    if "label" in filters:
        qs = qs.filter(imported_label="" if filters["label"] == "none" else filters["label"])
    qs = qs.annotate(
        n_votes=Count("votes"),
        model_a=F("response_a__source_model"),
        model_b=F("response_b__source_model"),
    )
    return cursor_page(
        request, qs, PairPreviewSerializer, ordering="id", page_size=50,
        prepare=lambda page: with_previews(page, key="pk"),
    )  # fmt: skip


@extend_schema(responses={200: PairSerializer, **READ_ERRORS}, tags=["pairs"])
@api_view(["GET"])
def pair_detail(request: Request, project_id: int, pair_id: int) -> Response:
    project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
    pair = (
        Pair.objects.filter(project=project, pk=pair_id)
        .select_related("prompt", "response_a", "response_b")
        .annotate(n_votes=Count("votes"))
        .first()
    )
    if pair is None:
        raise NotFound("No such pair")
    return Response(PairSerializer(pair).data)
