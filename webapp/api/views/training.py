"""Training runs: a project's latest, starting one, and one run's curves and metrics."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import project_for_request, validated
from webapp.api.errors import ERRORS, READ_ERRORS
from webapp.api.serializers.training import TrainingRequestSerializer, TrainingRunSerializer
from webapp.projects.models import Membership
from webapp.training.options import DEFAULT_DROP_FLAGS, TrainingError, TrainingOptions
from webapp.training.selectors import run_visible_to, runs_for_project
from webapp.training.services import training_run_create


@extend_schema(
    methods=["GET"],
    operation_id="projects_training_runs_list",
    responses={200: TrainingRunSerializer(many=True), **READ_ERRORS},
    tags=["training"],
)
@extend_schema(
    methods=["POST"],
    operation_id="projects_training_runs_create",
    request=TrainingRequestSerializer,
    responses={202: TrainingRunSerializer, **ERRORS},
    tags=["training"],
)
@api_view(["GET", "POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def training_run_list(request: Request, project_id: int) -> Response:
    """GET: the project's latest 100 training runs (reviewers). POST: start one (admins); its
    job's page shows the progress, the run's ``url`` its curves and metrics."""
    if request.method == "GET":
        project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
        runs = runs_for_project(project=project).select_related("job")[:100]
        return Response(TrainingRunSerializer(runs, many=True).data)
    project, _ = project_for_request(request, project_id, Membership.Role.ADMIN)
    data = validated(TrainingRequestSerializer, request.data)
    data["drop_flag_kinds"] = list(data.get("drop_flag_kinds") or DEFAULT_DROP_FLAGS)
    try:
        run = training_run_create(
            project=project, options=TrainingOptions(**data), created_by=request.user
        )
    except TrainingError as exc:
        raise ValidationError({"non_field_errors": [str(exc)]}) from exc
    return Response(TrainingRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: TrainingRunSerializer, **READ_ERRORS}, tags=["training"])
@api_view(["GET"])
def training_run_detail(request: Request, run_id: int) -> Response:
    """One training run: recipe, counts, curves, held-out metrics and its registered model."""
    run = run_visible_to(user=request.user, run_id=run_id)
    if run is None:
        raise NotFound("No such training run")
    project_for_request(request, run.project_id, Membership.Role.REVIEWER)
    return Response(TrainingRunSerializer(run).data)
