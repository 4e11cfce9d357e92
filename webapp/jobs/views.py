from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.jobs.selectors import job_visible_to
from webapp.jobs.services import job_cancel
from webapp.projects.models import Membership
from webapp.projects.selectors import project_for_user


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_visible_to(user=request.user, job_id=job_id)
    if job is None:
        raise Http404("No such job")
    return render(request, "jobs/detail.html", {"job": job, "project": job.project})


@require_POST
@login_required
def job_cancel_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_visible_to(user=request.user, job_id=job_id)
    if job is None:
        raise Http404("No such job")
    if job.project_id is not None:
        project_for_user(
            user=request.user, project_id=job.project_id, min_role=Membership.Role.ADMIN
        )
    elif not request.user.is_superuser:
        raise Http404("No such job")
    job_cancel(job=job)
    return redirect("jobs:detail", job_id=job.pk)
