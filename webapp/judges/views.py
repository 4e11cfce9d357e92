from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.jobs.services import job_create
from webapp.judges import selectors
from webapp.judges.models import Judge
from webapp.judges.services import (
    JudgeError,
    judge_create,
    judge_fill_in_set,
    judge_run_create,
    verdicts_import_start,
)
from webapp.projects.models import Membership, Project
from webapp.projects.selectors import project_for_user


@login_required
def judges_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """Every judge of a project against its people (reviewers up)."""
    project, role = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.REVIEWER
    )
    report = selectors.judge_report_latest(project=project)
    context = {
        "project": project,
        "role": role,
        "is_admin": role == Membership.Role.ADMIN,
        "judges": list(selectors.judges_for_project(project=project)),
        "report": report,
        "data": report.data if report else {},
        "runs": selectors.judge_runs_recent(project=project),
        "models": list(selectors.registered_models_of(project=project)),
        "sources": Judge.Source.choices,
        "charts": selectors.judge_charts(report=report),
    }
    return render(request, "judges/page.html", context)


def _admin_judge(request: HttpRequest, project_id: int, judge_id: int) -> tuple[Project, Judge]:
    project, _ = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.ADMIN
    )
    judge = selectors.judge_for_project(project=project, judge_id=judge_id)
    if judge is None:
        raise Http404("No such judge")
    return project, judge


@require_POST
@login_required
def judge_add(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.ADMIN
    )
    source = request.POST.get("source", "")
    config: dict[str, object] = {}
    if source == Judge.Source.REWARD_MODEL:
        model = request.POST.get("registered_model", "")
        if model.isdigit():
            if not selectors.registered_models_of(project=project).filter(pk=int(model)).exists():
                raise Http404("No such model")
            config["registered_model"] = int(model)
        else:
            config["path"] = request.POST.get("path", "").strip()
    try:
        judge_create(
            project=project, name=request.POST.get("name", ""), source=source, config=config
        )
    except JudgeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Judge added.")
    return redirect("judges:page", project_id=project.pk)


@require_POST
@login_required
def judge_run(request: HttpRequest, project_id: int, judge_id: int) -> HttpResponse:
    project, judge = _admin_judge(request, project_id, judge_id)
    try:
        run = judge_run_create(judge=judge, created_by=request.user)
    except JudgeError as exc:
        messages.error(request, str(exc))
        return redirect("judges:page", project_id=project.pk)
    assert run.job is not None
    return redirect("jobs:detail", job_id=run.job.pk)


@require_POST
@login_required
def judge_verdicts_upload(request: HttpRequest, project_id: int, judge_id: int) -> HttpResponse:
    project, judge = _admin_judge(request, project_id, judge_id)
    upload = request.FILES.get("file")
    if upload is None or judge.source != Judge.Source.VERDICTS:
        messages.error(request, "Choose a verdict file for a judge of imported verdicts.")
        return redirect("judges:page", project_id=project.pk)
    job = verdicts_import_start(
        judge=judge,
        upload=upload,
        key_field=request.POST.get("key_field", "").strip(),
        created_by=request.user,
    )
    return redirect("jobs:detail", job_id=job.pk)


@require_POST
@login_required
def judge_fill_in(request: HttpRequest, project_id: int, judge_id: int) -> HttpResponse:
    project, judge = _admin_judge(request, project_id, judge_id)
    on = request.POST.get("on") == "1"
    judge_fill_in_set(judge=judge, on=on)
    messages.success(
        request,
        f"{judge.name} now labels pairs nobody voted on."
        if on
        else f"{judge.name} labels nothing.",
    )
    return redirect("judges:page", project_id=project.pk)


@require_POST
@login_required
def judges_measure_start(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.ADMIN
    )
    job = job_create(kind="judges_measure", project=project, params={}, created_by=request.user)
    return redirect("jobs:detail", job_id=job.pk)
