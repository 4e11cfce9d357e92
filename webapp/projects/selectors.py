"""Reads about projects, and the access helper every project-scoped view uses."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, QueryDict

from webapp.dbbackend import prepared
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


@cache
def _project_for_user_sql() -> str:
    return f"""
        SELECT {prepared.columns(Project, "p")}, m.role
        FROM {Project._meta.db_table} p
        LEFT JOIN {Membership._meta.db_table} m ON m.project_id = p.id AND m.user_id = %s
        WHERE p.id = %s
    """


def project_for_user(
    *, user: Any, project_id: int, min_role: str = Membership.Role.ANNOTATOR
) -> tuple[Project, str]:
    """The project and the user's role in it, or 404: someone else's project does not exist.

    One query: every project-scoped request runs this first, so it is prepared SQL (the ORM's
    query compiler and PostgreSQL's planner cost several times the query itself)."""
    if not user.is_authenticated:
        raise Http404("No such project")
    with prepared.cursor() as cursor:
        cursor.execute(_project_for_user_sql(), [user.pk, project_id])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such project")
    project = prepared.instance(Project, row[:-1])
    role = Membership.Role.ADMIN if user.is_superuser else row[-1]
    if role is None or ROLE_RANK[Membership.Role(role)] < ROLE_RANK[Membership.Role(min_role)]:
        raise Http404("No such project")
    return project, role


def admin_post(request: HttpRequest, *, role: str) -> QueryDict | None:
    """The data of a POST to a project page's admin-only form; None for any other request.

    A POST from anyone but an admin is 404, as from someone outside the project: the page
    shows them no form to send."""
    if request.method != "POST":
        return None
    if role != Membership.Role.ADMIN:
        raise Http404("No such project")
    return request.POST
