from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.checks import selectors
from webapp.checks.models import ChecksSettings
from webapp.checks.services import check_run_create, checks_settings_save
from webapp.flags.models import Flag
from webapp.projects.models import Membership
from webapp.projects.selectors import project_for_user


@login_required
def checks_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """The latest checks of a project: rates, charts and the flagged pairs (reviewers up)."""
    project, role = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.REVIEWER
    )
    run = selectors.check_run_latest(project=project)
    overall, position = selectors.position_bias(project=project)
    agreement = selectors.self_agreement(project=project)
    flagged = [
        (Flag.Kind(kind).label, kind, selectors.checks_flags(project=project, kind=kind))
        for kind in selectors.CHECK_KINDS
    ]
    context = {
        "project": project,
        "role": role,
        "is_admin": role == Membership.Role.ADMIN,
        "run": run,
        "summary": run.summary if run else {},
        "overall": overall,
        "position": position,
        "agreement": agreement,
        "flagged": flagged,
        "settings": ChecksSettings.objects.filter(project=project).first()
        or ChecksSettings(project=project),
        "charts": selectors.check_charts(run=run, position=position, agreement=agreement),
    }
    return render(request, "checks/page.html", context)


@require_POST
@login_required
def checks_start(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.ADMIN
    )
    run = check_run_create(project=project, created_by=request.user)
    assert run.job is not None
    return redirect("jobs:detail", job_id=run.job.pk)


@require_POST
@login_required
def checks_settings(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.ADMIN
    )
    try:
        checks_settings_save(project=project, values=request.POST.dict())
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Check settings saved.")
    return redirect("checks:page", project_id=project.pk)
