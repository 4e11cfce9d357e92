"""Pages for reviewing a steps project's flagged solutions (webapp/review/steps.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from webapp.labelling.step_labels import step_agreement_summary
from webapp.pairs.models import Item
from webapp.projects.models import Membership, Project
from webapp.projects.selectors import project_for_user
from webapp.review import steps


def _project(request: HttpRequest, project_id: int) -> Project:
    project, _ = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.REVIEWER
    )
    if project.label_scheme != Project.LabelScheme.STEPS:
        raise Http404("This project does not label steps")
    return project


@login_required
@require_GET
def step_queue(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    kind = request.GET.get("kind", "")
    rows = steps.step_review_queue(project=project, kind=kind)
    run = steps.latest_step_run(project=project)
    context = {
        "project": project,
        "rows": rows,
        "run": run,
        "agreement": step_agreement_summary(project=project),
    }
    return render(request, "review/steps_queue.html", context)


@login_required
@require_GET
def step_item(request: HttpRequest, project_id: int, item_id: int) -> HttpResponse:
    project = _project(request, project_id)
    try:
        context = steps.step_review_item(project=project, item_id=item_id)
    except Item.DoesNotExist:
        raise Http404("No such solution") from None
    return render(request, "review/step_item.html", {"project": project, **context})


@login_required
@require_POST
def step_decide(request: HttpRequest, project_id: int, item_id: int) -> HttpResponse:
    project = _project(request, project_id)
    raw = request.POST.get("first_error", "")
    try:
        steps.step_decision_record(
            project=project,
            item_id=item_id,
            reviewer=request.user,
            outcome=request.POST.get("outcome", ""),
            first_error=int(raw) if raw.lstrip("-").isdigit() else None,
            reason=request.POST.get("reason", ""),
        )
    except Item.DoesNotExist:
        raise Http404("No such solution") from None
    except steps.StepReviewError as exc:
        messages.error(request, str(exc))
    return redirect("review:step_item", project_id=project.pk, item_id=item_id)
