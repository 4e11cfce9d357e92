"""The step labelling page: one solution at a time from the item queue, each step labelled
good / neutral / bad from the keyboard, or only its first error marked (ProcessBench's way).

Blind as the pair page is: the page shows the problem and the steps, never the imported
labels, the other annotators' answers, the model that wrote the solution or its final answer's
correctness.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from webapp.labelling import leases, queue, selectors
from webapp.labelling.item_answers import item_answer_submit
from webapp.labelling.models import Assignment
from webapp.labelling.services import LabellingError, assignment_skip
from webapp.pairs.models import ItemResponse, Prompt
from webapp.pairs.steps import steps_of
from webapp.projects.models import Project
from webapp.projects.selectors import project_for_user


def _steps_project(request: HttpRequest, project_id: int) -> Project:
    project, _ = project_for_user(user=request.user, project_id=project_id)
    if project.label_scheme != Project.LabelScheme.STEPS:
        raise Http404("This project does not label steps")
    return project


@dataclass(frozen=True)
class ShownSteps:
    """A steps item as an annotator is shown it, here and through the API: the problem and
    the solution's steps, nothing else."""

    problem: Prompt
    steps: list[str]


def shown_steps(*, item_id: int) -> ShownSteps:
    """The problem and steps of a steps item: one query."""
    response = ItemResponse.objects.select_related("response", "item__prompt").get(
        item_id=item_id, position=0
    )
    return ShownSteps(response.item.prompt, steps_of(response.response.text, response.metadata))


def _held(project: Project, annotator: Any) -> Assignment | None:
    """The annotator's live item lease, else a new one from the queue."""
    live = (
        Assignment.objects.filter(
            project=project,
            annotator=annotator,
            state=Assignment.State.LEASED,
            item__isnull=False,
            expires_at__gt=timezone.now(),
        )
        .order_by("served_at")
        .first()
    )
    if live is not None:
        return live
    new_id = queue.assignment_next(project=project, annotator=annotator)
    return Assignment.objects.get(pk=new_id) if new_id is not None else None


@login_required
@require_GET
def steps_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _steps_project(request, project_id)
    leases.leases_reclaim_if_due(project=project)
    assignment = _held(project, request.user)
    context: dict[str, Any] = {
        "project": project,
        "mine": selectors.annotator_votes_count(project=project, annotator=request.user),
    }
    if assignment is not None:
        assert assignment.item_id is not None  # _held leases items only
        shown = shown_steps(item_id=assignment.item_id)
        context |= {"assignment": assignment, "problem": shown.problem, "steps": shown.steps}
    return render(request, "labelling/steps.html", context)


@login_required
@require_POST
def steps_answer(request: HttpRequest, project_id: int) -> HttpResponse:
    """Store the answer (JSON: token, round, payload, time_ms); the page then loads the next."""
    project = _steps_project(request, project_id)
    try:
        body = json.loads(request.body)
        token, round_ = uuid.UUID(str(body["token"])), int(body["round"])
        time_ms = body.get("time_ms")
        result = item_answer_submit(
            project=project,
            annotator=request.user,
            token=token,
            round=round_,
            payload=body.get("payload"),
            time_taken_ms=int(time_ms) if isinstance(time_ms, int | float) else None,
        )
    except (ValueError, KeyError, TypeError):
        return JsonResponse(
            {"field": "body", "error": "expected token, round and payload"}, status=400
        )
    except LabellingError as exc:
        return JsonResponse({"field": exc.field, "error": str(exc)}, status=400)
    except Assignment.DoesNotExist:
        raise Http404("No such assignment") from None
    return JsonResponse({"status": result.status})


@login_required
@require_POST
def steps_skip(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _steps_project(request, project_id)
    try:
        assignment_skip(
            project=project,
            annotator=request.user,
            token=uuid.UUID(request.POST.get("token", "")),
            round=int(request.POST.get("round", "0")),
        )
    except (ValueError, Assignment.DoesNotExist):
        raise Http404("No such assignment") from None
    return redirect(reverse("labelling:steps", args=[project.pk]))
