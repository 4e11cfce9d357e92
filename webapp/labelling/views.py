"""The labelling page and its htmx endpoints, the annotator home, gold pairs, agreement.

Blind by construction: the labelling fragments show a prompt and two responses, never another
person's vote, the pair's imported label, the responses' models, or which side is A.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from webapp.jobs.services import job_create
from webapp.labelling import item_views, leases, queue, selectors, services
from webapp.labelling.item_views import token_of
from webapp.labelling.models import Assignment, Vote
from webapp.pairs.models import Response
from webapp.pairs.selectors import pair_for_project
from webapp.projects.models import Membership, Project
from webapp.projects.schemes import labels_items
from webapp.projects.selectors import project_for_user, projects_for_user

# The labelling page holds the pair shown and the next one, already fetched.
HELD = 2
STRENGTH_KEYS = "qwertyuio"


@dataclass(frozen=True)
class Shown:
    """An assignment as the page shows it: the responses by screen side."""

    assignment: Assignment
    left: Response
    right: Response
    undone: services.Undone | None = None


def _shown(assignment: Assignment, undone: services.Undone | None = None) -> Shown:
    pair = assignment.pair
    assert pair is not None, "a pairwise project's assignments serve pairs"
    if assignment.shown_order == Vote.Order.AB:
        return Shown(assignment, pair.response_a, pair.response_b, undone)
    return Shown(assignment, pair.response_b, pair.response_a, undone)


def _fragment(request: HttpRequest, project: Any, assignment_id: int | None) -> HttpResponse:
    """The next pair for the page's buffer, or the "nothing left" note."""
    if labels_items(project):
        return item_views.item_fragment(request, project, assignment_id)
    context: dict[str, Any] = {"project": project}
    if assignment_id is not None:
        context["shown"] = _shown(selectors.assignment_to_show(assignment_id=assignment_id))
    return render(request, "labelling/_next.html", context)


def _int_or_none(value: str | None, field: str) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        raise services.LabellingError(f"not a number: {value!r}", field=field) from None


@login_required
def annotator_home(request: HttpRequest) -> HttpResponse:
    """Every project the user may label in, with their own progress and what they hold."""
    user: Any = request.user
    projects = list(projects_for_user(user=user).order_by("name"))
    roles = selectors.roles_of(user=user)
    counts = selectors.assignment_counts(annotator=user)
    empty = {"voted": 0, "skipped": 0, "held": 0}
    rows = [
        {
            "project": p,
            "role": roles.get(p.pk, Membership.Role.ADMIN if user.is_superuser else ""),
            "progress": selectors.project_progress(project=p),
            **counts.get(p.pk, empty),
        }
        for p in projects
    ]
    return render(request, "labelling/home.html", {"rows": rows})


@login_required
@require_GET
def label_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project, role = project_for_user(user=request.user, project_id=project_id)
    if project.label_scheme == Project.LabelScheme.STEPS:
        return redirect("labelling:steps", project_id=project.pk)
    if labels_items(project):
        return item_views.item_label_page(request, project, role)
    leases.leases_reclaim_if_due(project=project)
    held = selectors.assignments_live(project=project, annotator=request.user, limit=HELD)
    for _ in range(HELD - len(held)):
        new_id = queue.assignment_next(project=project, annotator=request.user)
        if new_id is None:
            break
        held.append(selectors.assignment_to_show(assignment_id=new_id))
    shown = [_shown(a) for a in held]
    scale = list(project.strength_scale or [])
    context = {
        "project": project,
        "role": role,
        "current": shown[0] if shown else None,
        "buffered": shown[1:],
        "scale": [{"key": STRENGTH_KEYS[i], "index": i, "name": n} for i, n in enumerate(scale)],
        "mine": selectors.annotator_votes_count(project=project, annotator=request.user),
        "progress": selectors.project_progress(project=project),
    }
    return render(request, "labelling/label.html", context)


@login_required
@require_POST
def label_next(request: HttpRequest, project_id: int) -> HttpResponse:
    """Lease one more pair: the page's prefetch when its buffer ran dry, and the API's "next"."""
    project, _ = project_for_user(user=request.user, project_id=project_id)
    leases.leases_reclaim_if_due(project=project)
    new_id = queue.assignment_next(project=project, annotator=request.user)
    return _fragment(request, project, new_id)


@login_required
@require_POST
def label_vote(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_for_user(user=request.user, project_id=project_id)
    token, round_ = token_of(request)
    try:
        result = services.vote_submit(
            project=project,
            annotator=request.user,
            token=token,
            round=round_,
            side=request.POST.get("choice", ""),
            strength=_int_or_none(request.POST.get("strength"), "strength"),
            rationale=request.POST.get("rationale", ""),
            time_taken_ms=_int_or_none(request.POST.get("time_ms"), "time_ms"),
        )
    except services.LabellingError as exc:
        return HttpResponseBadRequest(f"{exc.field}: {exc}")
    except Assignment.DoesNotExist:
        raise Http404("No such assignment") from None
    response = _after(request, project)
    response["X-Vote-Status"] = result.status
    # the project's counter, which the page never shows lower than its own count (it may be
    # a few seconds old: project_progress is cached)
    progress = selectors.project_progress(project=project)
    response["X-Project-Votes"] = str(progress.votes)
    response["X-Project-Wanted"] = str(progress.wanted)
    return response


@login_required
@require_POST
def label_skip(request: HttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_for_user(user=request.user, project_id=project_id)
    token, round_ = token_of(request)
    try:
        skipped = services.assignment_skip(
            project=project, annotator=request.user, token=token, round=round_
        )
    except Assignment.DoesNotExist:
        raise Http404("No such assignment") from None
    response = _after(request, project)
    response["X-Vote-Status"] = "skipped" if skipped else "stale"
    return response


def _after(request: HttpRequest, project: Any) -> HttpResponse:
    """After a vote or skip: the next pair, when the page asks for one."""
    leases.leases_reclaim_if_due(project=project)
    if request.POST.get("prefetch") != "1":
        return HttpResponse(b"")
    new_id = queue.assignment_next(project=project, annotator=request.user)
    return _fragment(request, project, new_id)


@login_required
@require_POST
def label_undo(request: HttpRequest, project_id: int) -> HttpResponse:
    """Take back the latest vote: its pair comes back, with the earlier answer filled in."""
    project, _ = project_for_user(user=request.user, project_id=project_id)
    undone = services.vote_undo(project=project, annotator=request.user)
    if undone is None:
        return HttpResponse(status=204)
    if labels_items(project):
        return item_views.item_fragment(request, project, undone.assignment_id, undone)
    assignment = selectors.assignment_to_show(assignment_id=undone.assignment_id)
    context = {"project": project, "shown": _shown(assignment, undone)}
    return render(request, "labelling/_next.html", context)


@login_required
@require_GET
def label_progress(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's counter, for the labelling page to refresh while nobody votes."""
    project, _ = project_for_user(user=request.user, project_id=project_id)
    progress = selectors.project_progress(project=project)
    return JsonResponse({"votes": progress.votes, "wanted": progress.wanted})


@login_required
def gold_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """Admins mark pairs with a known answer and see each annotator's accuracy on them."""
    project, role = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.ADMIN
    )
    error = ""
    if request.method == "POST":
        try:
            pair_id = int(request.POST.get("pair", ""))
        except ValueError:
            pair_id = 0
        pair = pair_for_project(project=project, pair_id=pair_id) if pair_id > 0 else None
        if pair is None:
            error = "No such pair in this project."
        elif request.POST.get("action") == "remove":
            services.gold_remove(project=project, pair_id=pair.pk)
            return redirect("labelling:gold", project_id=project.pk)
        else:
            try:
                services.gold_set(
                    pair=pair,
                    choice=request.POST.get("choice", ""),
                    note=request.POST.get("note", ""),
                    created_by=request.user,
                )
            except services.LabellingError as exc:
                error = str(exc)
            else:
                return redirect("labelling:gold", project_id=project.pk)
    context = {
        "project": project,
        "role": role,
        "golds": selectors.gold_answers(project=project),
        "accuracy": selectors.gold_accuracy(project=project),
        "choices": Vote.Choice.choices,
        "error": error,
    }
    return render(request, "labelling/gold.html", context, status=400 if error else 200)


@login_required
def agreement_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """Agreement figures and aggregated labels (reviewers and admins); admins recompute."""
    project, role = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.REVIEWER
    )
    if request.method == "POST":
        if role != Membership.Role.ADMIN:
            raise Http404("No such project")
        with transaction.atomic():
            job = job_create(
                kind="aggregate_votes",
                project=project,
                params={},
                created_by=request.user,
            )
        return redirect("jobs:detail", job_id=job.pk)
    report = selectors.agreement_report_latest(project=project)
    data: dict[str, Any] = report.data if report else {}
    label = request.GET.get("label", "")
    if label not in Vote.Choice.values:
        label = ""
    try:
        after = int(request.GET.get("after") or 0)
    except ValueError:
        after = 0
    labels = selectors.human_labels_page(project=project, after_id=after, label=label)
    counts = selectors.human_label_counts(project=project)
    for row in data.get("annotators", []):
        ms = row.get("median_time_ms")
        row["median_time_s"] = None if ms is None else ms / 1000
    context = {
        "project": project,
        "role": role,
        "is_admin": role == Membership.Role.ADMIN,
        "report": report,
        "data": data,
        "counts": counts,
        "label_rows": _label_rows(data, counts),
        "charts": _chart_data(data) if data.get("n_votes") else {},
        "labels": labels,
        "label": label,
        "next_after": labels[-1].pair_id if len(labels) == 50 else None,
        "choices": Vote.Choice.choices,
    }
    return render(request, "labelling/agreement.html", context)


def _label_rows(data: dict[str, Any], counts: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    summary = data.get("labels", {})
    return [
        {
            "value": value,
            "name": name,
            "votes": data.get("votes_by_label", {}).get(value, 0),
            "majority": summary.get("majority", {}).get(value, 0),
            "ds": summary.get("dawid_skene", {}).get(value, 0),
            "now": counts["by_label"].get(value, 0),
        }
        for value, name in Vote.Choice.choices
    ]


def _chart_data(data: dict[str, Any]) -> dict[str, Any]:
    """What the Plotly charts of the agreement page draw (static/js/agreement.js)."""
    annotators = data["annotators"]
    names = [a["username"] for a in annotators]
    index = {a["worker"]: i for i, a in enumerate(annotators)}
    kappa: list[list[float | None]] = [[None] * len(names) for _ in names]
    for i in range(len(names)):
        kappa[i][i] = 1.0
    for p in data["cohen"]["pairs"]:
        a, b = index.get(p["a"]), index.get(p["b"])
        if a is not None and b is not None:
            kappa[a][b] = kappa[b][a] = p["kappa"]
    summary = data.get("labels", {})
    choices = [c for c, _ in Vote.Choice.choices]
    return {
        "choices": [n for _, n in Vote.Choice.choices],
        "votes": [data["votes_by_label"].get(c, 0) for c in choices],
        "majority": [summary.get("majority", {}).get(c, 0) for c in choices],
        "dawid_skene": [summary.get("dawid_skene", {}).get(c, 0) for c in choices],
        "confidence": summary.get("confidence_hist", {}),
        "annotators": names,
        "left_share": [a["left_share"] for a in annotators],
        "median_time_s": [a["median_time_s"] for a in annotators],
        # A heatmap of every two annotators is readable up to a few dozen of them.
        "kappa": kappa if len(names) <= 60 else [],
    }
