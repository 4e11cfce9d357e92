"""The labelling page of projects that label items (ranking, rating, pairwise per attribute).

The same page address, queue, leases, skip and undo as for pairs (views.py dispatches here);
only what is shown and the answer sent differ. Blind: the responses come in an order drawn
per assignment, numbered as shown, never with their models, positions' meaning or anyone's
answer.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_POST

from webapp.labelling import item_answers, leases, queue, selectors, services
from webapp.labelling.models import Assignment
from webapp.labelling.payloads import kind_asked
from webapp.pairs.models import ItemResponse, Prompt
from webapp.projects.models import Project
from webapp.projects.schemes import scheme_settings_of
from webapp.projects.selectors import project_for_user

HELD = 1


@dataclass(frozen=True)
class ShownResponse:
    number: int  # as shown: 1, 2, ...
    position: int
    text: str


@dataclass(frozen=True)
class ShownItem:
    assignment: Assignment
    prompt: Prompt
    responses: list[ShownResponse]
    positions_json: str  # the positions in shown order, for the page to build its payload
    undone_json: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def shown_item(*, project: Project, assignment_id: int, undone: Any = None) -> ShownItem:
    """An item assignment with its prompt and responses in the order it shows them: two
    queries, whatever the number of responses."""
    assignment = Assignment.objects.select_related("item__prompt").get(pk=assignment_id)
    if assignment.item is None:
        raise Assignment.DoesNotExist(f"assignment {assignment_id} serves no item")
    settings = scheme_settings_of(project)
    kind = kind_asked(scheme=project.label_scheme, settings=settings)
    rows = {
        r.position: r.response.text
        for r in ItemResponse.objects.filter(item=assignment.item).select_related("response")
    }
    order = item_answers.shown_positions(
        token=assignment.token, positions=list(rows), kind=kind, settings=settings
    )
    responses = [ShownResponse(n, p, rows[p]) for n, p in enumerate(order, 1)]
    payload = getattr(undone, "payload", None)
    return ShownItem(
        assignment,
        assignment.item.prompt,
        responses,
        json.dumps(order),
        json.dumps(payload) if payload else "",
    )


def _context(project: Project) -> dict[str, Any]:
    settings = scheme_settings_of(project)
    kind = kind_asked(scheme=project.label_scheme, settings=settings)
    attributes = [
        {"name": a.name, "low": a.low, "high": a.high, "description": a.description}
        for a in settings.attributes
    ]
    return {"project": project, "kind": kind, "attributes": attributes}


def item_label_page(request: HttpRequest, project: Project, role: str) -> HttpResponse:
    leases.leases_reclaim_if_due(project=project)
    held = selectors.assignments_live(project=project, annotator=request.user, limit=HELD)
    ids = [a.pk for a in held]
    if not ids:
        new_id = queue.assignment_next(project=project, annotator=request.user)
        ids = [new_id] if new_id is not None else []
    current = shown_item(project=project, assignment_id=ids[0]) if ids else None
    context = _context(project) | {
        "role": role,
        "current": current,
        "mine": selectors.annotator_votes_count(project=project, annotator=request.user),
        "progress": selectors.project_progress(project=project),
    }
    return render(request, "labelling/items.html", context)


def item_fragment(
    request: HttpRequest, project: Project, assignment_id: int | None, undone: Any = None
) -> HttpResponse:
    context = _context(project)
    if assignment_id is not None:
        context["shown"] = shown_item(project=project, assignment_id=assignment_id, undone=undone)
    return render(request, "labelling/_item.html", context)


@login_required
@require_POST
def label_answer(request: HttpRequest, project_id: int) -> HttpResponse:
    """Store an answer on the item shown; the next item's fragment comes back."""
    project, _ = project_for_user(user=request.user, project_id=project_id)
    try:
        token, round_ = token_of(request)
        payload = json.loads(request.POST.get("payload", ""))
        time_ms = request.POST.get("time_ms")
        result = item_answers.item_answer_submit(
            project=project,
            annotator=request.user,
            token=token,
            round=round_,
            payload=payload,
            time_taken_ms=int(time_ms) if time_ms and time_ms.isdigit() else None,
        )
    except json.JSONDecodeError:
        return HttpResponseBadRequest("payload: not JSON")
    except services.LabellingError as exc:
        return HttpResponseBadRequest(f"{exc.field}: {exc}")
    except Assignment.DoesNotExist:
        raise Http404("No such assignment") from None
    leases.leases_reclaim_if_due(project=project)
    new_id = queue.assignment_next(project=project, annotator=request.user)
    response = item_fragment(request, project, new_id)
    response["X-Vote-Status"] = result.status
    progress = selectors.project_progress(project=project)
    response["X-Project-Votes"] = str(progress.votes)
    response["X-Project-Wanted"] = str(progress.wanted)
    return response


def token_of(request: HttpRequest) -> tuple[uuid.UUID, int]:
    """The assignment token and round a labelling POST carries (pairs' and items' alike)."""
    try:
        return uuid.UUID(request.POST.get("token", "")), int(request.POST.get("round", "0"))
    except ValueError:
        raise Http404("No such assignment") from None
