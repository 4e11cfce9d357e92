"""Export pages: a project's snapshots and the form for a new one, a snapshot, its files.

Exports hold every label: reviewers and admins see them, admins make them, annotators get 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from webapp.exports.forms import ExportForm
from webapp.exports.models import ExportSnapshot
from webapp.exports.selectors import ExportError
from webapp.exports.services import export_create
from webapp.exports.snapshots import snapshot_for_user, snapshots_for_project
from webapp.pairs.selectors import pair_counts
from webapp.projects.models import Membership
from webapp.projects.selectors import admin_post, project_for_user

CONTENT_TYPES = {
    ".parquet": "application/vnd.apache.parquet",
    ".jsonl": "application/jsonl",
    ".gz": "application/gzip",
    ".md": "text/markdown; charset=utf-8",
}


@login_required
def export_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project, role = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.REVIEWER
    )
    is_admin = role == Membership.Role.ADMIN
    splits = sorted(pair_counts(project=project)["by_split"])
    form = ExportForm(admin_post(request, role=role), splits=splits)
    if form.is_bound and form.is_valid():
        try:
            with transaction.atomic():
                snapshot = export_create(
                    project=project,
                    file_format=form.cleaned_data["file_format"],
                    spec=form.spec(),
                    created_by=request.user,
                )
        except ExportError as exc:
            form.add_error(None, str(exc))
        else:
            assert snapshot.job_id is not None
            return redirect("jobs:detail", job_id=snapshot.job_id)
    context = {
        "project": project,
        "role": role,
        "is_admin": is_admin,
        "form": form,
        "snapshots": snapshots_for_project(project=project)[:100],
    }
    # a POST that got here was refused: bad fields, or an export that cannot be made
    return render(request, "exports/list.html", context, status=400 if form.is_bound else 200)


@login_required
def export_detail(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    snapshot, role = snapshot_for_user(user=request.user, snapshot_id=snapshot_id)
    card = ""
    if snapshot.is_ready:
        try:
            card = (snapshot.path / "README.md").read_text(encoding="utf-8")
        except OSError:
            card = ""
    context = {"snapshot": snapshot, "project": snapshot.project, "role": role, "card": card}
    return render(request, "exports/detail.html", context)


def snapshot_file_response(snapshot: ExportSnapshot, name: str) -> FileResponse:
    """A recorded file of a ready snapshot, as an attachment; 404 for anything else."""
    if not snapshot.is_ready or snapshot.file_entry(name) is None:
        raise Http404("No such file")
    path = snapshot.path / name
    try:
        handle = open(path, "rb")  # noqa: SIM115 -- FileResponse closes it
    except OSError:
        raise Http404("No such file") from None
    suffix = path.suffix
    response = FileResponse(handle, as_attachment=True, filename=f"v{snapshot.version}-{name}")
    response["Content-Type"] = CONTENT_TYPES.get(suffix, "application/octet-stream")
    return response


@login_required
def export_download(request: HttpRequest, snapshot_id: int, name: str) -> FileResponse:
    snapshot, _ = snapshot_for_user(user=request.user, snapshot_id=snapshot_id)
    return snapshot_file_response(snapshot, name)
