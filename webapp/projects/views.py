from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from webapp.jobs.models import Job
from webapp.labelling.models import Vote
from webapp.pairs.selectors import pair_counts, pairs_page
from webapp.projects.models import Membership
from webapp.projects.selectors import project_for_user, projects_for_user
from webapp.projects.services import project_create


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.user.is_staff:
        name = request.POST.get("name", "").strip()
        if name:
            project = project_create(name=name, created_by=request.user)
            return redirect("projects:detail", project_id=project.pk)
    projects = projects_for_user(user=request.user).annotate(n_pairs=Count("pairs"))
    return render(request, "projects/list.html", {"projects": projects})


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
    }
    return render(request, "projects/detail.html", context)
