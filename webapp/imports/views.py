from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from webapp.imports.forms import UploadForm
from webapp.imports.models import ImportBatch
from webapp.imports.services import import_batch_create
from webapp.jobs.services import job_create
from webapp.projects.models import Membership
from webapp.projects.selectors import project_for_user


def safe_file_name(name: str) -> str:
    """The last path part of an uploaded name, in safe characters (no '..', no slashes)."""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip(".")
    return cleaned[-200:] or "upload"


def _store(upload: UploadedFile) -> Path:
    folder = Path(settings.UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_file_name(upload.name or "upload")
    with open(path, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return path


@login_required
def upload(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.ADMIN
    )
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        path = _store(upload_file)
        with transaction.atomic():
            job = job_create(
                kind="import",
                project=project,
                params={"file": upload_file.name},
                created_by=request.user,
            )
            import_batch_create(
                project=project,
                path=path,
                file_name=safe_file_name(upload_file.name),
                fmt=form.cleaned_data["fmt"] or "auto",
                mapping=form.cleaned_data["mapping"],
                strict=form.cleaned_data["strict"],
                default_split=form.cleaned_data["split"] or "train",
                created_by=request.user,
                job=job,
            )
        return redirect("jobs:detail", job_id=job.pk)
    return render(request, "imports/upload.html", {"project": project, "form": form})


@login_required
def report(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = ImportBatch.objects.select_related("project").filter(pk=batch_id).first()
    if batch is None:
        raise Http404("No such import")
    project_for_user(user=request.user, project_id=batch.project_id, min_role=Membership.Role.ADMIN)
    return render(request, "imports/report.html", {"batch": batch, "project": batch.project})
