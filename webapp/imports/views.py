from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from webapp.imports.forms import UploadForm
from webapp.imports.models import ImportBatch
from webapp.projects.models import Membership
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
    return render(request, "imports/upload.html", {"project": project, "form": form})


@login_required
def report(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = ImportBatch.objects.select_related("project").filter(pk=batch_id).first()
    if batch is None:
        raise Http404("No such import")
    project_for_user(user=request.user, project_id=batch.project_id, min_role=Membership.Role.ADMIN)
    return render(request, "imports/report.html", {"batch": batch, "project": batch.project})
