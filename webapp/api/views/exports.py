"""Export snapshots: listing them, starting one, and downloading its files."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, renderer_classes
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import project_for_request, validated
from webapp.api.errors import ERRORS, READ_ERRORS
from webapp.api.serializers.exports import (
    ExportRequestSerializer,
    ExportSnapshotSerializer,
    ExportStartedSerializer,
)
from webapp.exports.selectors import ExportError, ExportSpec
from webapp.exports.services import export_create
from webapp.exports.snapshots import snapshot_for_user, snapshots_for_project
from webapp.exports.views import snapshot_file_response
from webapp.projects.models import Membership


@extend_schema(
    methods=["GET"],
    operation_id="projects_exports_list",
    responses={200: ExportSnapshotSerializer(many=True), **READ_ERRORS},
    tags=["exports"],
)
@extend_schema(
    methods=["POST"],
    request=ExportRequestSerializer,
    responses={202: ExportStartedSerializer, **ERRORS},
    tags=["exports"],
)
@api_view(["GET", "POST"])
def export_list(request: Request, project_id: int) -> Response:
    """GET: the project's export snapshots, newest first (reviewers and admins).
    POST: start an export job (admins); follow the job, then download the files."""
    if request.method == "GET":
        project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
        snapshots = snapshots_for_project(project=project)[:100]
        return Response(ExportSnapshotSerializer(snapshots, many=True).data)
    project, _ = project_for_request(request, project_id, Membership.Role.ADMIN)
    data = validated(ExportRequestSerializer, request.data)
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
    return Response(ExportStartedSerializer(body).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: ExportSnapshotSerializer, **READ_ERRORS}, tags=["exports"])
@api_view(["GET"])
def export_detail(request: Request, snapshot_id: int) -> Response:
    snapshot, _ = snapshot_for_user(user=request.user, snapshot_id=snapshot_id)
    return Response(ExportSnapshotSerializer(snapshot).data)


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
