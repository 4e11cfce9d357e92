"""The REST API: the same services, selectors and access checks as the pages, as JSON.

Every project-scoped endpoint goes through ``project_for_user`` with the role its page needs:
someone else's project, pair, job or export is a 404, never a 403. Annotators label blind: the
labelling endpoints show sides (left / right), never A or B, labels, models or other votes, and
the endpoints that show labels (pairs, exports) need a reviewer.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes, renderer_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api import serializers as s
from webapp.api.errors import error_body
from webapp.exports.selectors import ExportError, ExportSpec, snapshot_for_user
from webapp.exports.selectors import snapshots_for_project as _snapshots
from webapp.exports.services import export_create
from webapp.exports.views import snapshot_file_response
from webapp.flags.selectors import flags_for_project
from webapp.imports.forms import UploadForm
from webapp.imports.models import ImportBatch
from webapp.imports.services import import_upload_start
from webapp.jobs.models import Job
from webapp.jobs.selectors import job_visible_to
from webapp.jobs.services import job_cancel
from webapp.labelling import leases, queue
from webapp.labelling import selectors as labelling_selectors
from webapp.labelling import services as labelling
from webapp.labelling.models import Assignment, Vote
from webapp.pairs.models import Pair
from webapp.pairs.selectors import pair_counts
from webapp.projects.models import Membership, Project
from webapp.projects.selectors import project_for_user, projects_for_user
from webapp.review import decisions
from webapp.scoring.models import ScoringRun
from webapp.scoring.selectors import scores_for_run, scoring_runs_for_project
from webapp.scoring.services import ScoringOptions, scoring_run_create

ERRORS = {
    400: OpenApiResponse(s.ErrorSerializer, description="The request is not valid."),
    401: OpenApiResponse(s.ErrorSerializer, description="No or a bad token."),
    404: OpenApiResponse(s.ErrorSerializer, description="No such object (or not yours)."),
}
READ_ERRORS = {401: ERRORS[401], 404: ERRORS[404]}


def _project(request: Request, project_id: int, min_role: str) -> tuple[Project, str]:
    return project_for_user(user=request.user, project_id=project_id, min_role=min_role)


def _valid(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- projects -------------------------------------------------------------------------------


@extend_schema(
    operation_id="projects_list",
    responses={200: s.ProjectSerializer(many=True), **READ_ERRORS},
    tags=["projects"],
)
@api_view(["GET"])
def project_list(request: Request) -> Response:
    """The projects you belong to, with your role in each."""
    projects = list(projects_for_user(user=request.user).order_by("name"))
    user: Any = request.user
    roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
    data = [
        {
            "id": p.pk,
            "name": p.name,
            "description": p.description,
            "role": Membership.Role.ADMIN if request.user.is_superuser else roles.get(p.pk),
            "created_at": p.created_at,
        }
        for p in projects
    ]
    return Response(s.ProjectSerializer(data, many=True).data)


@extend_schema(responses={200: s.ProjectDetailSerializer, **READ_ERRORS}, tags=["projects"])
@api_view(["GET"])
def project_detail(request: Request, project_id: int) -> Response:
    """A project, its pair counts and your role. Counts by label are for reviewers and admins."""
    project, role = _project(request, project_id, Membership.Role.ANNOTATOR)
    counts = pair_counts(project=project)
    data = {
        "id": project.pk,
        "name": project.name,
        "description": project.description,
        "role": role,
        "created_at": project.created_at,
        "guidelines": project.guidelines,
        "strength_scale": list(project.strength_scale or []),
        "votes_per_pair": project.votes_per_pair,
        "pairs": counts["total"],
        "pairs_by_split": counts["by_split"],
        "pairs_by_label": None if role == Membership.Role.ANNOTATOR else counts["by_label"],
    }
    return Response(s.ProjectDetailSerializer(data).data)


# --- pairs ----------------------------------------------------------------------------------


class PairCursor(CursorPagination):
    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema(
    operation_id="projects_pairs_list",
    parameters=[s.PairFilterSerializer],
    responses={200: s.PairPageSerializer, **ERRORS},
    tags=["pairs"],
)
@api_view(["GET"])
def pair_list(request: Request, project_id: int) -> Response:
    """The project's pairs in id order, a page at a time (follow ``next``). Reviewers and
    admins: pairs carry their imported labels."""
    project, _ = _project(request, project_id, Membership.Role.REVIEWER)
    filters = _valid(s.PairFilterSerializer, request.query_params)
    qs: QuerySet[Pair] = Pair.objects.filter(project=project)
    if "split" in filters:
        qs = qs.filter(split=filters["split"])
    if "label" in filters:
        qs = qs.filter(imported_label="" if filters["label"] == "none" else filters["label"])
    qs = qs.select_related("prompt", "response_a", "response_b").annotate(n_votes=Count("votes"))
    paginator = PairCursor()
    page = paginator.paginate_queryset(qs, request) or []
    return paginator.get_paginated_response(s.PairSerializer(page, many=True).data)


@extend_schema(responses={200: s.PairSerializer, **READ_ERRORS}, tags=["pairs"])
@api_view(["GET"])
def pair_detail(request: Request, project_id: int, pair_id: int) -> Response:
    project, _ = _project(request, project_id, Membership.Role.REVIEWER)
    pair = (
        Pair.objects.filter(project=project, pk=pair_id)
        .select_related("prompt", "response_a", "response_b")
        .annotate(n_votes=Count("votes"))
        .first()
    )
    if pair is None:
        raise NotFound("No such pair")
    return Response(s.PairSerializer(pair).data)


# --- imports --------------------------------------------------------------------------------


@extend_schema(
    request={"multipart/form-data": s.ImportRequestSerializer},
    responses={202: s.ImportStartedSerializer, **ERRORS},
    tags=["imports"],
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def import_create(request: Request, project_id: int) -> Response:
    """Upload a file of pairs: the same import job as the upload page (admins)."""
    project, _ = _project(request, project_id, Membership.Role.ADMIN)
    data: Any = request.data
    fields = {k: data.get(k) for k in ("fmt", "mapping", "strict")}
    fields["split"] = data.get("split") or "train"
    form = UploadForm(fields, request.FILES)
    if not form.is_valid():
        raise ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
    batch = import_upload_start(
        project=project,
        upload=form.cleaned_data["file"],
        fmt=form.cleaned_data["fmt"],
        mapping=form.cleaned_data["mapping"],
        strict=form.cleaned_data["strict"],
        default_split=form.cleaned_data["split"],
        created_by=request.user,
    )
    data = {"import_batch": batch, "job": batch.job}
    return Response(s.ImportStartedSerializer(data).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: s.ImportBatchSerializer, **READ_ERRORS}, tags=["imports"])
@api_view(["GET"])
def import_detail(request: Request, batch_id: int) -> Response:
    """An import's report: counts and the rejected records with file, line and field."""
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("No such import")
    _project(request, batch.project_id, Membership.Role.ADMIN)
    return Response(s.ImportBatchSerializer(batch).data)


# --- labelling ------------------------------------------------------------------------------


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
        200: s.AssignmentSerializer,
        204: OpenApiResponse(description="No pair is open for you."),
        **READ_ERRORS,
    },
    tags=["labelling"],
)
@api_view(["POST"])
def assignment_next(request: Request, project_id: int) -> Response:
    """The pair to label next, blind: a lease you already hold, else a newly leased one."""
    project, _ = _project(request, project_id, Membership.Role.ANNOTATOR)
    leases.leases_reclaim_if_due(project=project)
    held = labelling_selectors.assignments_live(project=project, annotator=request.user, limit=1)
    if held:
        assignment = held[0]
    else:
        new_id = queue.assignment_next(project=project, annotator=request.user)
        if new_id is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        assignment = labelling_selectors.assignment_to_show(assignment_id=new_id)
    return Response(s.AssignmentSerializer(_assignment_data(assignment, project)).data)


@extend_schema(
    request=s.VoteRequestSerializer,
    responses={
        201: s.VoteResultSerializer,
        200: OpenApiResponse(s.VoteResultSerializer, description="Already stored (a retry)."),
        409: OpenApiResponse(s.ErrorSerializer, description="Undone, skipped or not needed."),
        **ERRORS,
    },
    tags=["labelling"],
)
@api_view(["POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def vote_create(request: Request, project_id: int) -> Response:
    """Vote on the pair a lease (token, round) serves. Retrying the same request is safe."""
    project, _ = _project(request, project_id, Membership.Role.ANNOTATOR)
    data = _valid(s.VoteRequestSerializer, request.data)
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
    return Response(s.VoteResultSerializer(body).data, status=code)


@extend_schema(
    request=s.SkipRequestSerializer,
    responses={200: s.SkipResultSerializer, **ERRORS},
    tags=["labelling"],
)
@api_view(["POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def assignment_skip(request: Request, project_id: int) -> Response:
    """Give a leased pair back without voting; it is not served to you again."""
    project, _ = _project(request, project_id, Membership.Role.ANNOTATOR)
    data = _valid(s.SkipRequestSerializer, request.data)
    try:
        skipped = labelling.assignment_skip(
            project=project, annotator=request.user, token=data["token"], round=data["round"]
        )
    except Assignment.DoesNotExist:
        raise NotFound("No such assignment") from None
    return Response({"skipped": skipped})


# --- jobs -----------------------------------------------------------------------------------


@extend_schema(
    operation_id="projects_jobs_list",
    responses={200: s.JobSerializer(many=True), **READ_ERRORS},
    tags=["jobs"],
)
@api_view(["GET"])
def job_list(request: Request, project_id: int) -> Response:
    """The project's latest 100 jobs (admins, as on the project page)."""
    project, _ = _project(request, project_id, Membership.Role.ADMIN)
    jobs = Job.objects.filter(project=project).order_by("-created_at")[:100]
    return Response(s.JobSerializer(jobs, many=True).data)


def _job(request: Request, job_id: int) -> Job:
    job = job_visible_to(user=request.user, job_id=job_id)
    if job is None:
        raise NotFound("No such job")
    return job


@extend_schema(responses={200: s.JobSerializer, **READ_ERRORS}, tags=["jobs"])
@api_view(["GET"])
def job_detail(request: Request, job_id: int) -> Response:
    """A job's status and progress; ``result.url`` is its outcome's page once it succeeded."""
    return Response(s.JobSerializer(_job(request, job_id)).data)


@extend_schema(request=None, responses={200: s.JobSerializer, **READ_ERRORS}, tags=["jobs"])
@api_view(["POST"])
def job_cancel_view(request: Request, job_id: int) -> Response:
    """Ask a job to stop (admins of its project): a queued job stops at once, a running one at
    its next progress report."""
    job = _job(request, job_id)
    if job.project_id is not None:
        _project(request, job.project_id, Membership.Role.ADMIN)
    elif not request.user.is_superuser:
        raise NotFound("No such job")
    job_cancel(job=job)
    return Response(s.JobSerializer(job).data)


# --- exports --------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    operation_id="projects_exports_list",
    responses={200: s.ExportSnapshotSerializer(many=True), **READ_ERRORS},
    tags=["exports"],
)
@extend_schema(
    methods=["POST"],
    request=s.ExportRequestSerializer,
    responses={202: s.ExportStartedSerializer, **ERRORS},
    tags=["exports"],
)
@api_view(["GET", "POST"])
def export_list(request: Request, project_id: int) -> Response:
    """GET: the project's export snapshots, newest first (reviewers and admins).
    POST: start an export job (admins); follow the job, then download the files."""
    if request.method == "GET":
        project, _ = _project(request, project_id, Membership.Role.REVIEWER)
        snapshots = _snapshots(project=project)[:100]
        return Response(s.ExportSnapshotSerializer(snapshots, many=True).data)
    project, _ = _project(request, project_id, Membership.Role.ADMIN)
    data = _valid(s.ExportRequestSerializer, request.data)
    spec = ExportSpec(
        style=data["style"],
        with_margin=data["with_margin"],
        drop_flagged=data["drop_flagged"],
        min_strength=data.get("min_strength"),
        reviewed_only=data["reviewed_only"],
        split=data.get("split") or "",
    )
    try:
        with transaction.atomic():
            snapshot = export_create(
                project=project,
                file_format=data["file_format"],
                spec=spec,
                created_by=request.user,
            )
    except ExportError as exc:
        raise ValidationError({"non_field_errors": [str(exc)]}) from exc
    body = {"export": snapshot, "job": snapshot.job}
    return Response(s.ExportStartedSerializer(body).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: s.ExportSnapshotSerializer, **READ_ERRORS}, tags=["exports"])
@api_view(["GET"])
def export_detail(request: Request, snapshot_id: int) -> Response:
    snapshot, _ = snapshot_for_user(user=request.user, snapshot_id=snapshot_id)
    return Response(s.ExportSnapshotSerializer(snapshot).data)


class FileRenderer(BaseRenderer):
    """Lets a download be asked for with any Accept header; errors still come as JSON."""

    media_type = "*/*"
    format = "file"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> Any:
        return json.dumps(data).encode() if isinstance(data, dict | list) else data


@extend_schema(
    responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **READ_ERRORS},
    tags=["exports"],
)
@api_view(["GET"])
@renderer_classes([JSONRenderer, FileRenderer])
def export_download(request: Request, snapshot_id: int, name: str) -> FileResponse:
    """One file of a ready snapshot (a split's data, or README.md)."""
    snapshot, _ = snapshot_for_user(user=request.user, snapshot_id=snapshot_id)
    return snapshot_file_response(snapshot, name)


# --- documentation --------------------------------------------------------------------------


def docs(request: HttpRequest) -> HttpResponse:
    """A page that lists every endpoint, from the same schema as /api/schema/."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": (op.get("description") or "").split("\n\n")[0],
            "tag": (op.get("tags") or [""])[0],
        }
        for path, item in schema.get("paths", {}).items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    return render(request, "api/docs.html", {"operations": operations, "info": schema["info"]})


# --- training runs ------------------------------------------------------------------------------

from webapp.training.selectors import run_visible_to, runs_for_project  # noqa: E402
from webapp.training.services import (  # noqa: E402
    DEFAULT_DROP_FLAGS,
    TrainingError,
    TrainingOptions,
    training_run_create,
)


@extend_schema(
    methods=["GET"],
    operation_id="projects_training_runs_list",
    responses={200: s.TrainingRunSerializer(many=True), **READ_ERRORS},
    tags=["training"],
)
@extend_schema(
    methods=["POST"],
    operation_id="projects_training_runs_create",
    request=s.TrainingRequestSerializer,
    responses={202: s.TrainingRunSerializer, **ERRORS},
    tags=["training"],
)
@api_view(["GET", "POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def training_run_list(request: Request, project_id: int) -> Response:
    """GET: the project's latest 100 training runs (reviewers). POST: start one (admins); its
    job's page shows the progress, the run's ``url`` its curves and metrics."""
    if request.method == "GET":
        project, _ = _project(request, project_id, Membership.Role.REVIEWER)
        runs = runs_for_project(project=project).select_related("job")[:100]
        return Response(s.TrainingRunSerializer(runs, many=True).data)
    project, _ = _project(request, project_id, Membership.Role.ADMIN)
    data = _valid(s.TrainingRequestSerializer, request.data)
    data["drop_flag_kinds"] = list(data.get("drop_flag_kinds") or DEFAULT_DROP_FLAGS)
    try:
        run = training_run_create(
            project=project, options=TrainingOptions(**data), created_by=request.user
        )
    except TrainingError as exc:
        raise ValidationError({"non_field_errors": [str(exc)]}) from exc
    return Response(s.TrainingRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: s.TrainingRunSerializer, **READ_ERRORS}, tags=["training"])
@api_view(["GET"])
def training_run_detail(request: Request, run_id: int) -> Response:
    """One training run: recipe, counts, curves, held-out metrics and its registered model."""
    run = run_visible_to(user=request.user, run_id=run_id)
    if run is None:
        raise NotFound("No such training run")
    _project(request, run.project_id, Membership.Role.REVIEWER)
    return Response(s.TrainingRunSerializer(run).data)


# --- scores, flags and scoring runs ---------------------------------------------------------
# Scores and flags say which response the ensemble prefers: reviewers and admins only, so an
# annotator labels blind (for them these are 404s, like someone else's project).


class ScoreCursor(CursorPagination):
    ordering = "pair_id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class FlagCursor(CursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


def _scoring_run(request: Request, run_id: int) -> ScoringRun:
    run = ScoringRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound("No such scoring run")
    _project(request, run.project_id, Membership.Role.REVIEWER)
    return run


@extend_schema(
    methods=["GET"],
    operation_id="projects_scoring_runs_list",
    responses={200: s.ScoringRunSerializer(many=True), **READ_ERRORS},
    tags=["scores"],
)
@extend_schema(
    methods=["POST"],
    request=s.ScoringRunRequestSerializer,
    responses={202: s.ScoringRunStartedSerializer, **ERRORS},
    tags=["scores"],
)
@api_view(["GET", "POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def scoring_run_list(request: Request, project_id: int) -> Response:
    """GET: the project's scoring runs, newest first (reviewers and admins).
    POST: start a scoring run, the same job as the project page's form (admins); follow the
    job, then read the run's scores."""
    if request.method == "GET":
        project, _ = _project(request, project_id, Membership.Role.REVIEWER)
        runs = scoring_runs_for_project(project=project)[:100]
        return Response(s.ScoringRunSerializer(runs, many=True).data)
    project, _ = _project(request, project_id, Membership.Role.ADMIN)
    data = _valid(s.ScoringRunRequestSerializer, request.data)
    options = ScoringOptions(mode=data["mode"], n_models=data["n_models"], n_folds=data["n_folds"])
    run = scoring_run_create(project=project, options=options, created_by=request.user)
    body = {"scoring_run": run, "job": run.job}
    return Response(s.ScoringRunStartedSerializer(body).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: s.ScoringRunSerializer, **READ_ERRORS}, tags=["scores"])
@api_view(["GET"])
def scoring_run_detail(request: Request, run_id: int) -> Response:
    """A scoring run: its mode, members, whether it is complete, and its summary."""
    return Response(s.ScoringRunSerializer(_scoring_run(request, run_id)).data)


@extend_schema(
    operation_id="scoring_runs_scores_list",
    parameters=[s.ScoreFilterSerializer],
    responses={200: s.PairScorePageSerializer, **ERRORS},
    tags=["scores"],
)
@api_view(["GET"])
def score_list(request: Request, run_id: int) -> Response:
    """A run's per-pair scores in pair id order, a page at a time (follow ``next``): mu, sigma,
    each model's margin and the decile of mu (reviewers and admins)."""
    run = _scoring_run(request, run_id)
    filters = _valid(s.ScoreFilterSerializer, request.query_params)
    scores = scores_for_run(run=run, decile=filters.get("decile"))
    paginator = ScoreCursor()
    page = paginator.paginate_queryset(scores, request) or []
    return paginator.get_paginated_response(s.PairScoreSerializer(page, many=True).data)


@extend_schema(
    operation_id="projects_flags_list",
    parameters=[s.FlagFilterSerializer],
    responses={200: s.FlagPageSerializer, **ERRORS},
    tags=["flags"],
)
@api_view(["GET"])
def flag_list(request: Request, project_id: int) -> Response:
    """The project's flags in id order, a page at a time (follow ``next``), filtered by kind,
    by the scoring run that raised them (``run=none``: checks and people) and by pair
    (reviewers and admins)."""
    project, _ = _project(request, project_id, Membership.Role.REVIEWER)
    filters = _valid(s.FlagFilterSerializer, request.query_params)
    run = filters.get("run")
    flags = flags_for_project(
        project=project,
        kind=filters.get("kind"),
        scoring_run_id=int(run) if run and run != "none" else None,
        without_run=run == "none",
        pair_id=filters.get("pair"),
    )
    paginator = FlagCursor()
    page = paginator.paginate_queryset(flags, request) or []
    return paginator.get_paginated_response(s.FlagSerializer(page, many=True).data)


# --- review decisions -----------------------------------------------------------------------

from webapp.review import selectors as review_selectors  # noqa: E402
from webapp.review.filters import FilterError, QueueFilter  # noqa: E402


class DecisionCursor(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _decision_page(request: Request, qs: Any) -> Response:
    paginator = DecisionCursor()
    page: list[Any] = paginator.paginate_queryset(qs, request) or []
    return paginator.get_paginated_response(s.ReviewDecisionSerializer(page, many=True).data)


@extend_schema(
    operation_id="projects_review_decisions",
    methods=["GET"],
    responses={200: s.ReviewDecisionPageSerializer, **READ_ERRORS},
    tags=["review"],
)
@extend_schema(
    operation_id="projects_review_decide",
    methods=["POST"],
    request=s.ReviewDecisionRequestSerializer,
    responses={201: s.ReviewDecisionSerializer, **ERRORS},
    tags=["review"],
)
@api_view(["GET", "POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def review_decisions(request: Request, project_id: int) -> Response:
    """GET: the project's review decisions, newest first. POST: decide on one pair (keep,
    flip, tie, drop, more_votes with ``votes``, or undo its latest decision). Reviewers."""
    project, _ = _project(request, project_id, Membership.Role.REVIEWER)
    if request.method == "GET":
        return _decision_page(request, review_selectors.decisions_for_project(project=project))
    data = _valid(s.ReviewDecisionRequestSerializer, request.data)
    try:
        if data["action"] == "undo":
            decision = decisions.review_undo(
                project=project, pair_id=data["pair"], reviewer=request.user,
                reason=data.get("reason", ""),
            )  # fmt: skip
        else:
            decision = decisions.review_decide(
                project=project, pair_id=data["pair"], action=data["action"],
                reviewer=request.user, reason=data.get("reason", ""),
                votes=data.get("votes", 0), flag_id=data.get("flag"),
            )  # fmt: skip
    except decisions.ReviewError as exc:
        raise ValidationError({"action": [str(exc)]}) from exc
    return Response(s.ReviewDecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


@extend_schema(
    operation_id="projects_pairs_review_decisions",
    responses={200: s.ReviewDecisionPageSerializer, **READ_ERRORS},
    tags=["review"],
)
@api_view(["GET"])
def pair_review_decisions(request: Request, project_id: int, pair_id: int) -> Response:
    """Every review decision on one pair, newest first."""
    project, _ = _project(request, project_id, Membership.Role.REVIEWER)
    if not Pair.objects.filter(project=project, pk=pair_id).exists():
        raise NotFound("No such pair")
    return _decision_page(
        request, review_selectors.decisions_for_pair(project=project, pair_id=pair_id)
    )


@extend_schema(
    request=s.ReviewBulkRequestSerializer,
    responses={
        200: OpenApiResponse(s.ReviewBulkResultSerializer, description="Preview: a count."),
        201: OpenApiResponse(s.ReviewBulkResultSerializer, description="Decided."),
        **ERRORS,
    },
    tags=["review"],
)
@api_view(["POST"])
@parser_classes([JSONParser])
def review_bulk(request: Request, project_id: int) -> Response:
    """One action on every flagged pair of a filter (the review queue's filters). Without
    ``confirm`` it only counts the pairs; with ``confirm: true`` it decides them."""
    project, _ = _project(request, project_id, Membership.Role.REVIEWER)
    data = _valid(s.ReviewBulkRequestSerializer, request.data)
    try:
        queue_filter = QueueFilter.parse(data.get("filter") or {})
    except FilterError as exc:
        raise ValidationError({"filter": [str(exc)]}) from exc
    action = data["action"]
    body: dict[str, Any] = {"action": action, "filter": queue_filter.as_dict(), "bulk": None}
    try:
        if not data.get("confirm"):
            body["count"] = decisions.review_bulk_preview(
                project=project, queue_filter=queue_filter, action=action
            )
            body["confirmed"] = False
            return Response(s.ReviewBulkResultSerializer(body).data)
        bulk = decisions.review_bulk_apply(
            project=project, queue_filter=queue_filter, action=action, reviewer=request.user,
            reason=data.get("reason", ""), votes=data.get("votes", 0),
        )  # fmt: skip
    except decisions.ReviewError as exc:
        raise ValidationError({"action": [str(exc)]}) from exc
    body.update(count=bulk.n_pairs, confirmed=True, bulk=bulk.pk)
    return Response(s.ReviewBulkResultSerializer(body).data, status=status.HTTP_201_CREATED)
