"""The projects you belong to, and one project's counts."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import project_for_request
from webapp.api.errors import READ_ERRORS
from webapp.api.serializers.projects import ProjectDetailSerializer, ProjectSerializer
from webapp.pairs.models import Item
from webapp.pairs.selectors import pair_counts
from webapp.projects.models import Membership
from webapp.projects.schemes import labels_items, scheme_settings_of
from webapp.projects.selectors import projects_for_user


@extend_schema(
    operation_id="projects_list",
    responses={200: ProjectSerializer(many=True), **READ_ERRORS},
    tags=["projects"],
)
@api_view(["GET"])
def project_list(request: Request) -> Response:
    """The projects you belong to, with your role in each."""
    projects = list(projects_for_user(user=request.user).order_by("name"))
    user: Any = request.user
    roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
    data = [
        {
            "id": p.pk,
            "name": p.name,
            "description": p.description,
            "role": Membership.Role.ADMIN if request.user.is_superuser else roles.get(p.pk),
            "created_at": p.created_at,
        }
        for p in projects
    ]
    return Response(ProjectSerializer(data, many=True).data)


@extend_schema(responses={200: ProjectDetailSerializer, **READ_ERRORS}, tags=["projects"])
@api_view(["GET"])
def project_detail(request: Request, project_id: int) -> Response:
    """A project, its pair counts and your role. Counts by label are for reviewers and admins."""
    project, role = project_for_request(request, project_id, Membership.Role.ANNOTATOR)
    counts = pair_counts(project=project)
    data = {
        "id": project.pk,
        "name": project.name,
        "description": project.description,
        "role": role,
        "created_at": project.created_at,
        "guidelines": project.guidelines,
        "strength_scale": list(project.strength_scale or []),
        "strength_required": project.strength_required,
        "label_scheme": project.label_scheme,
        "scheme_settings": scheme_settings_of(project).as_json(),
        "items": Item.objects.filter(project=project).count() if labels_items(project) else 0,
        "votes_per_pair": project.votes_per_pair,
        "pairs": counts["total"],
        "pairs_by_split": counts["by_split"],
        "pairs_by_label": None if role == Membership.Role.ANNOTATOR else counts["by_label"],
    }
    return Response(ProjectDetailSerializer(data).data)
