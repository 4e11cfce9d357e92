"""Judges: list and add, their report, verdict import, runs and the fill-in setting."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import project_for_request, validated
from webapp.api.errors import ERRORS, READ_ERRORS
from webapp.api.serializers.jobs import JobSerializer
from webapp.api.serializers.judges import (
    FillInSerializer,
    JudgeReportSerializer,
    JudgeRequestSerializer,
    JudgeRunSerializer,
    JudgeSerializer,
    VerdictUploadSerializer,
)
from webapp.judges.models import Judge
from webapp.judges.selectors import (
    judge_for_project,
    judge_report_latest,
    judges_for_project,
    registered_models_of,
)
from webapp.judges.services import (
    JudgeError,
    judge_create,
    judge_fill_in_set,
    judge_run_create,
    verdicts_import_start,
)
from webapp.projects.models import Membership


def _judge(request: Request, project_id: int, judge_id: int) -> Judge:
    project, _ = project_for_request(request, project_id, Membership.Role.ADMIN)
    judge = judge_for_project(project=project, judge_id=judge_id)
    if judge is None:
        raise NotFound("No such judge")
    return judge


def _refused(exc: Exception) -> ValidationError:
    return ValidationError({"non_field_errors": [str(exc)]})


@extend_schema(
    methods=["GET"], operation_id="projects_judges_list",
    responses={200: JudgeSerializer(many=True), **READ_ERRORS}, tags=["judges"],
)  # fmt: skip
@extend_schema(
    methods=["POST"], operation_id="projects_judges_create", request=JudgeRequestSerializer,
    responses={201: JudgeSerializer, **ERRORS}, tags=["judges"],
)  # fmt: skip
@api_view(["GET", "POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def judge_list(request: Request, project_id: int) -> Response:
    """GET: the project's judges (reviewers). POST: add one (admins): a reward model (a
    ``registered_model`` of the project, or a ``path``), imported verdicts, or the ensemble."""
    if request.method == "GET":
        project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
        return Response(JudgeSerializer(judges_for_project(project=project), many=True).data)
    project, _ = project_for_request(request, project_id, Membership.Role.ADMIN)
    data = validated(JudgeRequestSerializer, request.data)
    config: dict[str, Any] = {}
    if "registered_model" in data:
        if not registered_models_of(project=project).filter(pk=data["registered_model"]).exists():
            raise ValidationError({"registered_model": ["no such model in this project"]})
        config["registered_model"] = data["registered_model"]
    elif "path" in data:
        config["path"] = data["path"]
    try:
        judge = judge_create(
            project=project, name=data["name"], source=data["source_kind"], config=config
        )
    except JudgeError as exc:
        raise _refused(exc) from exc
    return Response(JudgeSerializer(judge).data, status=status.HTTP_201_CREATED)


@extend_schema(responses={200: JudgeReportSerializer, **READ_ERRORS}, tags=["judges"])
@api_view(["GET"])
def judge_report(request: Request, project_id: int) -> Response:
    """The latest measurement of every judge against the project's people (reviewers)."""
    project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
    report = judge_report_latest(project=project)
    if report is None:
        raise NotFound("No judge has been measured in this project yet")
    return Response(JudgeReportSerializer(report).data)


@extend_schema(
    request={"multipart/form-data": VerdictUploadSerializer},
    responses={202: JobSerializer, **ERRORS},
    tags=["judges"],
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def verdict_import(request: Request, project_id: int, judge_id: int) -> Response:
    """Upload a file of verdicts (pair id -> verdict, optional reason and position) for a
    judge of imported verdicts; a job imports it and measures the judges (admins)."""
    judge = _judge(request, project_id, judge_id)
    data = validated(VerdictUploadSerializer, request.data)
    if judge.source != Judge.Source.VERDICTS:
        raise ValidationError({"non_field_errors": ["this judge is not one of imported verdicts"]})
    job = verdicts_import_start(
        judge=judge, upload=data["file"], key_field=data.get("key_field", ""),
        created_by=request.user,
    )  # fmt: skip
    return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(request=None, responses={202: JudgeRunSerializer, **ERRORS}, tags=["judges"])
@api_view(["POST"])
def judge_run(request: Request, project_id: int, judge_id: int) -> Response:
    """Let a reward-model or ensemble judge judge every pair, on a worker (admins)."""
    judge = _judge(request, project_id, judge_id)
    try:
        run = judge_run_create(judge=judge, created_by=request.user)
    except JudgeError as exc:
        raise _refused(exc) from exc
    return Response(JudgeRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    request=FillInSerializer, responses={200: JudgeSerializer, **ERRORS}, tags=["judges"]
)
@api_view(["POST"])
@parser_classes([JSONParser, FormParser])
def judge_fill_in(request: Request, project_id: int, judge_id: int) -> Response:
    """Let this judge (and only it) label the pairs nobody voted on, or stop it (admins)."""
    judge = _judge(request, project_id, judge_id)
    data = validated(FillInSerializer, request.data)
    return Response(JudgeSerializer(judge_fill_in_set(judge=judge, on=data["on"])).data)
