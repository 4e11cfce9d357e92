"""Review pages: the queue, a pair's review page with keyboard shortcuts, bulk actions with a
preview and a confirmation, a pair's history, the dashboards and the review settings.

Reviewers and admins only (annotators label blind and never see these); the review settings
are the admins'. Decisions go through webapp.review.decisions, reads through selectors.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from webapp.projects.models import Membership, Project
from webapp.projects.selectors import project_for_user
from webapp.review import ambiguity, dashboards, decisions, learning, pair_page, selectors
from webapp.review import queue as review_queue
from webapp.review.filters import STATES, FilterError, QueueFilter
from webapp.review.models import ReviewDecision, ReviewSettings

BULK_ACTIONS = [
    (a.value, a.label) for a in ReviewDecision.Action if a != ReviewDecision.Action.UNDO
]


def _reviewer_project(request: HttpRequest, project_id: int, role: str = "") -> tuple[Project, str]:
    return project_for_user(
        user=request.user, project_id=project_id, min_role=role or Membership.Role.REVIEWER
    )


def _filter(request: HttpRequest, data: Any) -> tuple[QueueFilter, str]:
    try:
        return QueueFilter.parse(data), ""
    except FilterError as exc:
        return QueueFilter(), str(exc)


def _filter_context(project: Project, queue_filter: QueueFilter) -> dict[str, Any]:
    return {
        "filter": queue_filter,
        "filter_query": urlencode(queue_filter.as_dict()),
        "kinds": selectors.flag_kinds(project=project),
        "states": list(STATES.items()),
        "annotators": selectors.project_annotators(project=project),
        "splits": selectors.project_splits(project=project),
    }


@login_required
@require_GET
def queue(request: HttpRequest, project_id: int) -> HttpResponse:
    project, role = _reviewer_project(request, project_id)
    settings = selectors.review_settings_get(project=project)
    if settings.queue_built_at is None:
        review_queue.review_queue_rebuild(project=project)  # first visit: build it once
        settings = selectors.review_settings_get(project=project)
    queue_filter, error = _filter(request, request.GET)
    try:
        after = max(0, int(request.GET.get("after") or 0))
    except ValueError:
        after = 0
    rows = selectors.queue_page(project=project, queue_filter=queue_filter, after_rank=after)
    context = {
        "project": project,
        "role": role,
        "rows": rows,
        "total": selectors.queue_count(project=project, queue_filter=queue_filter),
        "count_cap": selectors.COUNT_CAP,
        "error": error,
        "settings": settings,
        "next_after": rows[-1].rank if len(rows) == selectors.PAGE else None,
        "bulk_actions": BULK_ACTIONS,
        "learning": selectors.learning_view(project=project),
        **_filter_context(project, queue_filter),
    }
    return render(request, "review/queue.html", context)


@login_required
@require_POST
def queue_rebuild(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = _reviewer_project(request, project_id)
    n = review_queue.review_queue_rebuild(project=project)
    messages.info(request, f"The review queue was rebuilt from the flags: {n} flagged pairs.")
    return redirect("review:queue", project.pk)


@login_required
def pair(request: HttpRequest, project_id: int, pair_id: int) -> HttpResponse:
    """GET: the pair's review page. POST: a decision (or undo), then the next pair."""
    project, role = _reviewer_project(request, project_id)
    data = request.POST if request.method == "POST" else request.GET
    queue_filter, _ = _filter(request, data)
    query = urlencode(queue_filter.as_dict())
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "undo":
                decisions.review_undo(
                    project=project, pair_id=pair_id, reviewer=request.user,
                    reason=request.POST.get("reason", ""),
                )  # fmt: skip
            else:
                decisions.review_decide(
                    project=project, pair_id=pair_id, action=action, reviewer=request.user,
                    reason=request.POST.get("reason", ""),
                    votes=_int(request.POST.get("votes"), 0),
                    flag_id=_int(request.POST.get("flag"), None),
                )  # fmt: skip
        except decisions.ReviewError as exc:
            messages.error(request, f"Pair {pair_id}: {exc}")
            return redirect(_pair_url(project.pk, pair_id, query))
        messages.info(request, f"Pair {pair_id}: {action.replace('_', ' ')} recorded.")
        if action == "undo" or request.POST.get("stay"):
            return redirect(_pair_url(project.pk, pair_id, query))
        following = selectors.queue_next(
            project=project, queue_filter=queue_filter, after_pair_id=pair_id
        )
        if following is None:
            messages.info(request, "That was the last pair of this filter.")
            return redirect(reverse("review:queue", args=[project.pk]) + f"?{query}")
        return redirect(_pair_url(project.pk, following, query))
    view = pair_page.pair_review(project=project, pair_id=pair_id)
    if view is None:
        raise Http404("No such pair")
    following = selectors.queue_next(
        project=project, queue_filter=queue_filter, after_pair_id=pair_id
    )
    context = {
        "project": project,
        "role": role,
        "view": view,
        "filter_query": query,
        "next_pair": following,
        "reason": learning.queue_reason(
            exploring=view.item.exploring, why=view.item.why, p_wrong=view.item.p_wrong
        )
        if view.item is not None
        else "",
        "margins": json.dumps(pair_page.margins_figure(view.score)) if view.score else None,
        "filter_items": queue_filter.as_dict(),
    }
    return render(request, "review/pair.html", context)


def _int(raw: Any, default: Any) -> Any:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


def _number(raw: Any, name: str) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: not a number: {raw!r}") from None


def _pair_url(project_id: int, pair_id: int, query: str) -> str:
    url = reverse("review:pair", args=[project_id, pair_id])
    return f"{url}?{query}" if query else url


@login_required
@require_GET
def history(request: HttpRequest, project_id: int, pair_id: int) -> HttpResponse:
    project, role = _reviewer_project(request, project_id)
    events = pair_page.pair_history(project=project, pair_id=pair_id)
    if events is None:
        raise Http404("No such pair")
    context = {"project": project, "role": role, "pair_id": pair_id, "events": events}
    return render(request, "review/history.html", context)


@login_required
def bulk(request: HttpRequest, project_id: int) -> HttpResponse:
    """GET: how many pairs the action would decide, and a form to confirm it. POST with
    ``confirm``: decide them, in one statement."""
    project, role = _reviewer_project(request, project_id)
    data = request.POST if request.method == "POST" else request.GET
    queue_filter, error = _filter(request, data)
    action = data.get("action", "")
    votes = _int(data.get("votes"), 2)
    reason = str(data.get("reason", ""))
    if error or action not in dict(BULK_ACTIONS):
        messages.error(request, error or f"Choose a bulk action, not {action!r}.")
        return redirect(reverse("review:queue", args=[project.pk]) + f"?{urlencode(data)}")
    if request.method == "POST" and data.get("confirm"):
        try:
            done = decisions.review_bulk_apply(
                project=project, queue_filter=queue_filter, action=action,
                reviewer=request.user, reason=reason, votes=votes,
            )  # fmt: skip
        except decisions.ReviewError as exc:
            messages.error(request, str(exc))
        else:
            messages.info(
                request, f"Bulk {action.replace('_', ' ')}: {done.n_pairs} pairs decided."
            )
        return redirect(
            reverse("review:queue", args=[project.pk]) + f"?{urlencode(queue_filter.as_dict())}"
        )
    count = decisions.review_bulk_preview(project=project, queue_filter=queue_filter, action=action)
    context = {
        "project": project,
        "role": role,
        "action": action,
        "action_label": dict(BULK_ACTIONS)[action],
        "count": count,
        "votes": votes,
        "reason": reason,
        "filter": queue_filter,
        "filter_items": queue_filter.as_dict(),
        "filter_query": urlencode(queue_filter.as_dict()),
    }
    return render(request, "review/bulk_confirm.html", context)


@login_required
@require_GET
def dashboard(request: HttpRequest, project_id: int) -> HttpResponse:
    project, role = _reviewer_project(request, project_id)
    context = {
        "project": project,
        "role": role,
        "charts": dashboards.CHARTS,
        "learning": selectors.learning_view(project=project),
        "ambiguity": ambiguity.ambiguity_outcomes(project=project),
        "settings": selectors.review_settings_get(project=project),
    }
    return render(request, "review/dashboard.html", context)


@login_required
@require_GET
def dashboard_chart(request: HttpRequest, project_id: int, name: str) -> HttpResponse:
    """One dashboard chart as an htmx fragment: its figure and its caption."""
    project, _ = _reviewer_project(request, project_id)
    chart = dashboards.CHARTS.get(name)
    if chart is None:
        raise Http404("No such chart")
    figure = chart.build(project=project)
    context = {"chart": chart, "name": name, "figure": json.dumps(figure) if figure else None}
    return render(request, "review/_chart.html", context)


@login_required
def review_settings(request: HttpRequest, project_id: int) -> HttpResponse:
    project, role = _reviewer_project(request, project_id, Membership.Role.ADMIN)
    settings = selectors.review_settings_get(project=project)
    if request.method == "POST" and request.POST.get("form") == "learning":
        try:
            learning.learning_settings_update(
                project=project,
                queue_order=request.POST.get("queue_order", ""),
                explore_share=_number(request.POST.get("explore_share"), "explore share"),
                refit_every=_int(request.POST.get("refit_every"), -1),
            )
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            review_queue.review_queue_rebuild(project=project)
            messages.info(request, "Queue settings saved; the queue follows them.")
            return redirect("review:settings", project.pk)
    elif request.method == "POST":
        try:
            ambiguity.review_settings_update(
                project=project,
                ambiguity_votes=bool(request.POST.get("ambiguity_votes")),
                ambiguity_pairs=_int(request.POST.get("ambiguity_pairs"), 0),
                ambiguity_extra_votes=_int(request.POST.get("ambiguity_extra_votes"), 0),
            )
        except decisions.ReviewError as exc:
            messages.error(request, str(exc))
        else:
            messages.info(request, "Review settings saved.")
            return redirect("review:settings", project.pk)
    context = {
        "project": project,
        "role": role,
        "settings": settings,
        "queue_orders": ReviewSettings.QueueOrder.choices,
        "ambiguity": ambiguity.ambiguity_outcomes(project=project),
    }
    return render(request, "review/settings.html", context)
