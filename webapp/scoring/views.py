from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.flags.models import Flag
from webapp.projects.models import Membership
from webapp.projects.selectors import project_for_user
from webapp.registry.selectors import registered_model_for_project
from webapp.scoring.models import ScoringRun
from webapp.scoring.selectors import run_charts, run_extremes
from webapp.scoring.services import ScoringOptions, scoring_run_create


@require_POST
@login_required
def run_start(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.ADMIN
    )
    try:
        options = ScoringOptions(
            mode=request.POST.get("mode", "oof"),
            n_models=max(1, min(32, int(request.POST.get("n_models", 8)))),
            n_folds=max(2, min(20, int(request.POST.get("n_folds", 5)))),
        )
    except ValueError:
        messages.error(request, "Models and folds must be whole numbers.")
        return redirect("projects:detail", project_id=project.pk)
    if request.POST.get("registered_model"):
        # a model from the registry votes, or encodes, in this run
        try:
            model = registered_model_for_project(
                project=project, model_id=int(request.POST["registered_model"])
            )
        except ValueError:
            model = None
        if model is None:
            messages.error(request, "No such registered model in this project.")
            return redirect("projects:detail", project_id=project.pk)
        if request.POST.get("registered_as") == "encoder" and model.kind == "finetune":
            options.encoder = model.path
        else:
            options.reward_models = [model.path]
    if options.mode not in ScoringRun.Mode.values:
        messages.error(request, f"Unknown scoring mode {options.mode!r}.")
        return redirect("projects:detail", project_id=project.pk)
    run = scoring_run_create(project=project, options=options, created_by=request.user)
    assert run.job is not None
    return redirect("jobs:detail", job_id=run.job.pk)


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = ScoringRun.objects.select_related("project", "job").filter(pk=run_id).first()
    if run is None:
        raise Http404("No such run")
    project, role = project_for_user(
        user=request.user, project_id=run.project_id, min_role=Membership.Role.REVIEWER
    )
    context = {"run": run, "project": project, "role": role}
    if run.complete:
        counts = run.summary.get("flag_counts", {})
        context.update(
            charts=run_charts(run=run),
            extremes=run_extremes(run=run),
            flag_counts=[
                (Flag.Kind(kind).label, n) for kind, n in counts.items() if kind in Flag.Kind
            ],
        )
    return render(request, "scoring/run.html", context)
