"""Reads about projects, and the access helper every project-scoped view uses."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from webapp.projects.models import ROLE_RANK, Membership, Project


def projects_for_user(*, user: Any) -> QuerySet[Project]:
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def role_in_project(*, user: Any, project: Project) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Membership.Role.ADMIN
    return (
        Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    )


_PROJECT_FOR_USER_SQL = f"""
    SELECT p.*, m.role AS member_role
    FROM {Project._meta.db_table} p
    LEFT JOIN {Membership._meta.db_table} m ON m.project_id = p.id AND m.user_id = %s
    WHERE p.id = %s
"""


def project_for_user(
    *, user: Any, project_id: int, min_role: str = Membership.Role.ANNOTATOR
) -> tuple[Project, str]:
    """The project and the user's role in it, or 404: someone else's project does not exist.

    One query: every project-scoped request runs this first, so it is written in SQL (the
    ORM's query compiler cost several times the query itself)."""
    if not user.is_authenticated:
        raise Http404("No such project")
    project = next(iter(Project.objects.raw(_PROJECT_FOR_USER_SQL, [user.pk, project_id])), None)
    if project is None:
        raise Http404("No such project")
    role = Membership.Role.ADMIN if user.is_superuser else getattr(project, "member_role", None)
    if role is None or ROLE_RANK[Membership.Role(role)] < ROLE_RANK[Membership.Role(min_role)]:
        raise Http404("No such project")
    return project, role
