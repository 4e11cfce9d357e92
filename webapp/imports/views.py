from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from webapp.imports.forms import UploadForm
from webapp.imports.models import ImportBatch
from webapp.projects.models import Membership, Project
from webapp.projects.schemes import Attribute, scheme_settings_of
from webapp.projects.selectors import project_for_user


@login_required
def upload(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.ADMIN
    )
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        batch = form.import_start(project=project, created_by=request.user)
        assert batch.job_id is not None
        return redirect("jobs:detail", job_id=batch.job_id)
    context = {"project": project, "form": form, "attributes": _rating_attributes(project)}
    return render(request, "imports/upload.html", context)


def _rating_attributes(project: Project) -> tuple[Attribute, ...]:
    """What a rating project's files are read against (none for other schemes)."""
    if project.label_scheme != Project.LabelScheme.RATING:
        return ()
    return scheme_settings_of(project).attributes


@login_required
def report(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = ImportBatch.objects.select_related("project").filter(pk=batch_id).first()
    if batch is None:
        raise Http404("No such import")
    project_for_user(user=request.user, project_id=batch.project_id, min_role=Membership.Role.ADMIN)
    return render(request, "imports/report.html", {"batch": batch, "project": batch.project})
