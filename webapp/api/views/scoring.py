"""Scoring runs and their per-pair scores.

Scores say which response the ensemble prefers: reviewers and admins only, so an annotator
labels blind (for them these are 404s, like someone else's project).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import cursor_page, project_for_request, validated
from webapp.api.errors import ERRORS, READ_ERRORS
from webapp.api.serializers.scoring import (
    PairScorePageSerializer,
    PairScoreSerializer,
    ScoreFilterSerializer,
    ScoringRunRequestSerializer,
    ScoringRunSerializer,
    ScoringRunStartedSerializer,
)
from webapp.projects.models import Membership
from webapp.scoring.models import ScoringRun
from webapp.scoring.selectors import scores_for_run, scoring_runs_for_project
from webapp.scoring.services import ScoringOptions, scoring_run_create


def _scoring_run(request: Request, run_id: int) -> ScoringRun:
    run = ScoringRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound("No such scoring run")
    project_for_request(request, run.project_id, Membership.Role.REVIEWER)
    return run


@extend_schema(
    methods=["GET"],
    operation_id="projects_scoring_runs_list",
    responses={200: ScoringRunSerializer(many=True), **READ_ERRORS},
    tags=["scores"],
)
@extend_schema(
    methods=["POST"],
    request=ScoringRunRequestSerializer,
    responses={202: ScoringRunStartedSerializer, **ERRORS},
    tags=["scores"],
)
@api_view(["GET", "POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def scoring_run_list(request: Request, project_id: int) -> Response:
    """GET: the project's scoring runs, newest first (reviewers and admins).
    POST: start a scoring run, the same job as the project page's form (admins); follow the
    job, then read the run's scores."""
    if request.method == "GET":
        project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
        runs = scoring_runs_for_project(project=project)[:100]
        return Response(ScoringRunSerializer(runs, many=True).data)
    project, _ = project_for_request(request, project_id, Membership.Role.ADMIN)
    data = validated(ScoringRunRequestSerializer, request.data)
    options = ScoringOptions(mode=data["mode"], n_models=data["n_models"], n_folds=data["n_folds"])
    run = scoring_run_create(project=project, options=options, created_by=request.user)
    body = {"scoring_run": run, "job": run.job}
    return Response(ScoringRunStartedSerializer(body).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: ScoringRunSerializer, **READ_ERRORS}, tags=["scores"])
@api_view(["GET"])
def scoring_run_detail(request: Request, run_id: int) -> Response:
    """A scoring run: its mode, members, whether it is complete, and its summary."""
    return Response(ScoringRunSerializer(_scoring_run(request, run_id)).data)


@extend_schema(
    operation_id="scoring_runs_scores_list",
    parameters=[ScoreFilterSerializer],
    responses={200: PairScorePageSerializer, **ERRORS},
    tags=["scores"],
)
@api_view(["GET"])
def score_list(request: Request, run_id: int) -> Response:
    """A run's per-pair scores in pair id order, a page at a time (follow ``next``): mu, sigma,
    each model's margin and the decile of mu (reviewers and admins)."""
    run = _scoring_run(request, run_id)
    filters = validated(ScoreFilterSerializer, request.query_params)
    scores = scores_for_run(run=run, decile=filters.get("decile"))
    return cursor_page(request, scores, PairScoreSerializer, ordering="pair_id", page_size=100)
