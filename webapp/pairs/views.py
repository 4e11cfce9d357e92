from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from webapp.pairs.selectors import pair_for_project
from webapp.projects.models import Membership
from webapp.projects.selectors import project_for_user


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
