from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.home.forms import MemberAddForm, ProjectSettingsForm
from webapp.jobs.models import Job
from webapp.labelling.models import Vote
from webapp.labelling.selectors import annotators_progress, project_progress
from webapp.pairs.selectors import pair_counts, pair_for_project, pairs_page
from webapp.projects.models import Membership, Project
from webapp.projects.schemes import default_scheme_settings, labels_items, scheme_settings_of
from webapp.projects.selectors import project_for_user, projects_for_user
from webapp.projects.services import (
    membership_remove,
    membership_set,
    project_create,
    project_settings_update,
)


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST" and request.user.is_staff:
        name = request.POST.get("name", "").strip()
        fields: dict[str, Any] = {"label_scheme": request.POST.get("label_scheme") or "pairwise"}
        try:
            raw = request.POST.get("scheme_settings", "").strip()
            if raw:
                fields["scheme_settings"] = json.loads(raw)
            if name:
                project = project_create(name=name, created_by=request.user, **fields)
                return redirect("projects:detail", project_id=project.pk)
        except json.JSONDecodeError as exc:
            error = f"scheme settings: not JSON ({exc.msg}, line {exc.lineno})"
        except ValueError as exc:  # SchemeSettingsError names the field
            error = f"scheme settings: {exc}"
    projects = projects_for_user(user=request.user).annotate(n_pairs=Count("pairs"))
    context = {
        "projects": projects,
        "schemes": Project.LabelScheme.choices,
        "default_settings": json.dumps(default_scheme_settings(), indent=1),
        "error": error,
    }
    return render(request, "projects/list.html", context)


@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project, role = project_for_user(user=request.user, project_id=project_id)
    after = int(request.GET.get("after", 0) or 0)
    split = request.GET.get("split", "")
    pairs = pairs_page(project=project, after_id=after, split=split)
    is_admin = role == Membership.Role.ADMIN
    context = {
        "project": project,
        "role": role,
        "is_admin": is_admin,
        "counts": pair_counts(project=project),
        "votes": Vote.objects.filter(pair__project=project).count(),
        "pairs": pairs,
        "split": split,
        "next_after": pairs[-1].pk if len(pairs) == 50 else None,
        "imports": project.imports.all()[:10] if is_admin else [],
        "jobs": Job.objects.filter(project=project)[:10] if is_admin else [],
        "scoring_runs": project.scoring_runs.all()[:5] if role != "annotator" else [],
        "scheme": scheme_settings_of(project) if labels_items(project) else None,
        "items": project.items.count() if labels_items(project) else 0,
    }
    return render(request, "projects/detail.html", context)


@login_required
def project_settings(request: HttpRequest, project_id: int) -> HttpResponse:
    """Project admin: labelling settings, guidelines, members and their roles, progress."""
    project, role = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.ADMIN
    )
    initial = {
        "guidelines": project.guidelines,
        "votes_per_pair": project.votes_per_pair,
        "strength_scale": "\n".join(project.strength_scale or []),
        "strength_required": project.strength_required,
        "queue_order": project.queue_order,
        "lease_minutes": project.lease_minutes,
    }
    form = ProjectSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        project_settings_update(project=project, **form.cleaned_data)
        return redirect("projects:settings", project_id=project.pk)
    members = (
        Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("role", "user__username")
    )
    context = {
        "project": project,
        "role": role,
        "form": form,
        "add_form": MemberAddForm(),
        "members": members,
        "roles": Membership.Role.choices,
        "progress": project_progress(project=project, fresh=True),
        "annotators": annotators_progress(project=project),
    }
    return render(request, "projects/settings.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def project_members(request: HttpRequest, project_id: int) -> HttpResponse:
    """Add a member, change a role, or remove a member. Admins cannot demote or remove
    themselves here, so a project never loses its last admin by accident."""
    project, _ = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.ADMIN
    )
    action = request.POST.get("action", "")
    if action == "add":
        form = MemberAddForm(request.POST)
        if form.is_valid():
            membership_set(
                project=project, user=form.cleaned_data["username"], role=form.cleaned_data["role"]
            )
        else:
            errors = (str(e) for errs in form.errors.values() for e in errs)
            messages.error(request, "; ".join(errors))
        return redirect("projects:settings", project_id=project.pk)
    member = Membership.objects.filter(project=project, pk=request.POST.get("member") or 0).first()
    if member is None:
        raise Http404("No such member")
    if member.user_id == request.user.pk:
        messages.error(request, "You cannot change your own role or remove yourself.")
    elif action == "role" and request.POST.get("role") in Membership.Role.values:
        membership_set(project=project, user=member.user, role=request.POST["role"])
    elif action == "remove":
        membership_remove(project=project, user_id=member.user_id)
    return redirect("projects:settings", project_id=project.pk)


@login_required
def pair_detail(request: HttpRequest, project_id: int, pair_id: int) -> HttpResponse:
    # Pair pages show imported labels and vote counts: reviewers and admins only. Annotators
    # see pairs through the labelling page, blind.
    project, role = project_for_user(
        user=request.user, project_id=project_id, min_role=Membership.Role.REVIEWER
    )
    pair = pair_for_project(project=project, pair_id=pair_id)
    if pair is None:
        raise Http404("No such pair")
    votes = pair.votes.select_related("annotator").order_by("created_at")
    return render(
        request,
        "pairs/detail.html",
        {"project": project, "role": role, "pair": pair, "votes": votes},
    )
