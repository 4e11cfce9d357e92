"""How often each kind of flag was right, and the noise model's P(wrong) per pair (reviewers
and admins: like scores, they say which response is likely better)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import cursor_page, project_for_request, validated
from webapp.api.errors import ERRORS
from webapp.api.serializers.learning import (
    NoiseFilterSerializer,
    NoisePageSerializer,
    PairNoiseSerializer,
    PrecisionFilterSerializer,
    PrecisionListSerializer,
)
from webapp.projects.models import Membership
from webapp.review.answers import flag_precision
from webapp.review.models import PairNoise
from webapp.scoring.models import ScoringRun
from webapp.scoring.selectors import latest_complete_run_id


@extend_schema(
    operation_id="projects_flag_precision",
    parameters=[PrecisionFilterSerializer],
    responses={200: PrecisionListSerializer, **ERRORS},
    tags=["review"],
)
@api_view(["GET"])
def precision_list(request: Request, project_id: int) -> Response:
    """Per flag kind of a scoring run (and of the flags tied to no run): how many flagged
    pairs have an answer (a review decision, a gold answer, later votes on an imported
    label) and how many answers confirmed the flag, with a Wilson 95% interval."""
    project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
    run_id = validated(PrecisionFilterSerializer, request.query_params).get("run")
    if run_id is None:
        run_id = latest_complete_run_id(project=project)
    elif not ScoringRun.objects.filter(pk=run_id, project=project, complete=True).exists():
        raise NotFound(f"no complete scoring run {run_id} in this project")
    kinds = [] if run_id is None else flag_precision(project_id=project.pk, run_id=run_id)
    return Response(PrecisionListSerializer({"run": run_id, "kinds": kinds}).data)


@extend_schema(
    operation_id="projects_noise_list",
    parameters=[NoiseFilterSerializer],
    responses={200: NoisePageSerializer, **ERRORS},
    tags=["review"],
)
@api_view(["GET"])
def noise_list(request: Request, project_id: int) -> Response:
    """The latest noise fit's P(wrong) of every scored pair, in pair id order, a page at a
    time (follow ``next``), with the features that raise it most."""
    project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
    validated(NoiseFilterSerializer, request.query_params)
    rows = PairNoise.objects.filter(project_id=project.pk)
    return cursor_page(request, rows, PairNoiseSerializer, ordering="pair_id", page_size=100)
