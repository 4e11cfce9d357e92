from __future__ import annotations

from typing import Any

from django.db import transaction

from webapp.projects.models import Membership, Project


@transaction.atomic
def project_create(*, name: str, created_by: Any = None, **fields: Any) -> Project:
    """Create a project; its creator becomes its first admin."""
    project = Project.objects.create(name=name, created_by=created_by, **fields)
    if created_by is not None:
        Membership.objects.create(project=project, user=created_by, role=Membership.Role.ADMIN)
    return project


def project_get_or_create(*, name: str, created_by: Any = None) -> Project:
    project = Project.objects.filter(name=name).first()
    return project or project_create(name=name, created_by=created_by)


def membership_set(*, project: Project, user: Any, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership
