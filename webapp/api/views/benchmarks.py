"""Benchmarks: list and import, leaderboards, evaluations."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import project_for_request, validated
from webapp.api.errors import ERRORS, READ_ERRORS
from webapp.api.serializers.benchmarks import (
    BenchmarkImportedSerializer,
    BenchmarkImportSerializer,
    BenchmarkSerializer,
    EvaluationRequestSerializer,
    EvaluationSerializer,
    ResultSerializer,
)
from webapp.benchmarks.models import Benchmark, Evaluation
from webapp.benchmarks.selectors import (
    benchmark_for_user,
    benchmarks_for_user,
    leaderboard,
    projects_evaluated_for,
)
from webapp.benchmarks.services import (
    BenchmarkError,
    benchmark_import,
    contender_parse,
    contenders_all,
    evaluation_create,
)
from webapp.imports.services import safe_file_name
from webapp.projects.models import Membership


def _benchmark(request: Request, benchmark_id: int, role: str) -> Benchmark:
    benchmark = benchmark_for_user(user=request.user, benchmark_id=benchmark_id)
    if benchmark is None:
        raise NotFound("No such benchmark")
    project_for_request(request, benchmark.project_id, role)
    return benchmark


@extend_schema(
    methods=["GET"], operation_id="benchmarks_list",
    responses={200: BenchmarkSerializer(many=True), **READ_ERRORS}, tags=["benchmarks"],
)  # fmt: skip
@extend_schema(
    methods=["POST"], operation_id="benchmarks_import",
    request={"multipart/form-data": BenchmarkImportSerializer},
    responses={201: BenchmarkImportedSerializer, **ERRORS}, tags=["benchmarks"],
)  # fmt: skip
@api_view(["GET", "POST"])
@parser_classes([MultiPartParser, FormParser])
def benchmark_list(request: Request) -> Response:
    """GET: the benchmarks you review or run. POST: import a file into a benchmark (a new one
    makes you its admin; adding to an existing one takes its admin)."""
    if request.method == "GET":
        return Response(BenchmarkSerializer(benchmarks_for_user(user=request.user), many=True).data)
    data = validated(BenchmarkImportSerializer, request.data)
    existing = Benchmark.objects.filter(name=data["name"].strip()).first()
    if existing is not None:
        project_for_request(request, existing.project_id, Membership.Role.ADMIN)
    folder = Path(settings.UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    upload: Any = data["file"]
    path = folder / safe_file_name(upload.name or "benchmark.jsonl")
    with open(path, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    try:
        benchmark, summary = benchmark_import(
            name=data["name"], path=path, file_name=path.name, fmt=data["format"],
            weights=data.get("weights"), mapping=data.get("mapping"), created_by=request.user,
        )  # fmt: skip
    except BenchmarkError as exc:
        raise ValidationError({"file": [str(exc)]}) from exc
    body = BenchmarkImportedSerializer(summary | {"benchmark": benchmark}).data
    return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(responses={200: ResultSerializer(many=True), **READ_ERRORS}, tags=["benchmarks"])
@api_view(["GET"])
def benchmark_leaderboard(request: Request, benchmark_id: int) -> Response:
    """Each contender's latest result on the benchmark, best first."""
    benchmark = _benchmark(request, benchmark_id, Membership.Role.REVIEWER)
    return Response(ResultSerializer(leaderboard(benchmark=benchmark), many=True).data)


@extend_schema(
    methods=["GET"], operation_id="benchmarks_evaluations_list",
    responses={200: EvaluationSerializer(many=True), **READ_ERRORS}, tags=["benchmarks"],
)  # fmt: skip
@extend_schema(
    methods=["POST"], operation_id="benchmarks_evaluations_create",
    request=EvaluationRequestSerializer, responses={202: EvaluationSerializer, **ERRORS},
    tags=["benchmarks"],
)  # fmt: skip
@api_view(["GET", "POST"])
@parser_classes([JSONParser, FormParser])
def evaluation_list(request: Request, benchmark_id: int) -> Response:
    """GET: the benchmark's latest 50 evaluations. POST: score contenders on it on a worker
    (its admins); ``all`` is every model, judge and ensemble of the projects you review."""
    if request.method == "GET":
        benchmark = _benchmark(request, benchmark_id, Membership.Role.REVIEWER)
        runs = Evaluation.objects.filter(benchmark=benchmark).select_related("job").order_by("-id")
        return Response(EvaluationSerializer(runs[:50], many=True).data)
    benchmark = _benchmark(request, benchmark_id, Membership.Role.ADMIN)
    data = validated(EvaluationRequestSerializer, request.data)
    allowed = projects_evaluated_for(user=request.user)
    try:
        contenders = []
        for spec in data["contenders"]:
            if spec == "all":
                contenders += contenders_all(benchmark=benchmark, projects=allowed)
                continue
            entry = contender_parse(spec)
            if entry["kind"] in ("registered", "judge", "ensemble") and not _visible(
                entry, allowed
            ):
                raise BenchmarkError(f"no contender {spec!r} among the projects you review")
            contenders.append(entry)
        run = evaluation_create(
            benchmark=benchmark, contenders=contenders, created_by=request.user, seed=data["seed"]
        )
    except BenchmarkError as exc:
        raise ValidationError({"contenders": [str(exc)]}) from exc
    return Response(EvaluationSerializer(run).data, status=status.HTTP_202_ACCEPTED)


def _visible(entry: dict[str, Any], projects: list[Any]) -> bool:
    from webapp.judges.models import Judge
    from webapp.registry.models import RegisteredModel

    ids = {p.pk for p in projects}
    if entry["kind"] == "ensemble":
        return entry["ref"] in ids
    if entry["kind"] == "registered":
        return RegisteredModel.objects.filter(pk=entry["ref"], project_id__in=ids).exists()
    return Judge.objects.filter(pk=entry["ref"], project_id__in=ids).exists()


@extend_schema(responses={200: EvaluationSerializer, **READ_ERRORS}, tags=["benchmarks"])
@api_view(["GET"])
def evaluation_detail(request: Request, evaluation_id: int) -> Response:
    """One evaluation: its job and each contender's figures."""
    run = Evaluation.objects.filter(pk=evaluation_id).select_related("job").first()
    if run is None:
        raise NotFound("No such evaluation")
    _benchmark(request, run.benchmark_id, Membership.Role.REVIEWER)
    return Response(EvaluationSerializer(run).data)
