"""Training pages: a project's runs, registry and start form; one run, live; runs compared."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from webapp.benchmarks.selectors import results_for_model
from webapp.projects.models import Membership
from webapp.projects.selectors import admin_post, project_for_user
from webapp.registry.models import RegisteredModel
from webapp.registry.selectors import models_for_project
from webapp.scoring.models import ScoringRun
from webapp.training.forms import TrainingForm
from webapp.training.options import TrainingError
from webapp.training.selectors import (
    run_charts,
    run_visible_to,
    runs_for_project,
)
from webapp.training.services import training_run_create

MAX_COMPARED = 8


@login_required
def training_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project, role = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.REVIEWER
    )
    is_admin = role == Membership.Role.ADMIN
    scoring = [
        (r.pk, f"run {r.pk} ({r.mode}, {r.n_pairs} pairs)")
        for r in ScoringRun.objects.filter(project=project, complete=True).order_by("-id")[:50]
    ]
    form = TrainingForm(admin_post(request, role=role), scoring_runs=scoring)
    if form.is_bound and form.is_valid():
        try:
            run = training_run_create(
                project=project, options=form.options(), created_by=request.user
            )
        except TrainingError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("training:run", run_id=run.pk)
    context = {
        "project": project,
        "role": role,
        "is_admin": is_admin,
        "form": form,
        "runs": list(runs_for_project(project=project)[:200]),
        "models": list(models_for_project(project=project)[:200]),
    }
    # a POST that got here was refused: bad fields, or a run that cannot start
    return render(request, "training/list.html", context, status=400 if form.is_bound else 200)


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = run_visible_to(user=request.user, run_id=run_id)
    if run is None:
        raise Http404("No such run")
    project, role = project_for_user(
        user=request.user, project_id=run.project_id, min_role=Membership.Role.REVIEWER
    )
    context = {
        "run": run,
        "project": project,
        "role": role,
        "is_admin": role == Membership.Role.ADMIN,
        "charts": run_charts(runs=[run]),
        "model": getattr(run, "model", None),
        "benchmark_results": results_for_model(model=getattr(run, "model", None)),
    }
    return render(request, "training/run.html", context)


@login_required
def run_compare(request: HttpRequest, project_id: int) -> HttpResponse:
    project, role = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.REVIEWER
    )
    try:
        ids = [int(v) for v in request.GET.getlist("runs")][:MAX_COMPARED]
    except ValueError as exc:
        raise Http404("Bad run ids") from exc
    runs = list(runs_for_project(project=project).filter(pk__in=ids).order_by("pk"))
    if not ids:
        runs = list(runs_for_project(project=project).filter(complete=True)[:MAX_COMPARED])
    context = {"project": project, "role": role, "runs": runs, "charts": run_charts(runs=runs)}
    return render(request, "training/compare.html", context)


@login_required
def model_download(request: HttpRequest, model_id: int, name: str) -> FileResponse:
    model = RegisteredModel.objects.filter(pk=model_id).first()
    if model is None:
        raise Http404("No such model")
    project_for_user(
        user=request.user, project_id=model.project_id, min_role=Membership.Role.REVIEWER
    )
    if name not in {f["name"] for f in model.files}:
        raise Http404("No such file")
    path = Path(model.path) / name
    if not path.is_file():
        raise Http404("The file is gone from disk")
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"v{model.version}-{name}")
