"""Uploading a file of pairs, and the import's report: for admins."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import project_for_request
from webapp.api.errors import ERRORS, READ_ERRORS
from webapp.api.serializers.imports import (
    ImportBatchSerializer,
    ImportRequestSerializer,
    ImportStartedSerializer,
)
from webapp.imports.forms import UploadForm
from webapp.imports.models import ImportBatch
from webapp.projects.models import Membership


@extend_schema(
    request={"multipart/form-data": ImportRequestSerializer},
    responses={202: ImportStartedSerializer, **ERRORS},
    tags=["imports"],
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def import_create(request: Request, project_id: int) -> Response:
    """Upload a file of pairs: the same import job as the upload page (admins)."""
    project, _ = project_for_request(request, project_id, Membership.Role.ADMIN)
    data: Any = request.data
    fields = {k: data.get(k) for k in ("fmt", "mapping", "strict")}
    fields["split"] = data.get("split") or "train"
    form = UploadForm(fields, request.FILES)
    if not form.is_valid():
        raise ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
    batch = form.import_start(project=project, created_by=request.user)
    data = {"import_batch": batch, "job": batch.job}
    return Response(ImportStartedSerializer(data).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: ImportBatchSerializer, **READ_ERRORS}, tags=["imports"])
@api_view(["GET"])
def import_detail(request: Request, batch_id: int) -> Response:
    """An import's report: counts and the rejected records with file, line and field."""
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("No such import")
    project_for_request(request, batch.project_id, Membership.Role.ADMIN)
    return Response(ImportBatchSerializer(batch).data)
