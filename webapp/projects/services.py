from __future__ import annotations

from typing import Any

from django.db import transaction

from webapp.projects.models import Membership, Project
from webapp.projects.schemes import SchemeSettingsError, scheme_settings_parse


@transaction.atomic
def project_create(*, name: str, created_by: Any = None, **fields: Any) -> Project:
    """Create a project; its creator becomes its first admin. A ``label_scheme`` outside
    Project.LabelScheme or bad ``scheme_settings`` raise SchemeSettingsError (a ValueError)."""
    scheme = fields.get("label_scheme", Project.LabelScheme.PAIRWISE)
    if scheme not in Project.LabelScheme.values:
        raise SchemeSettingsError(
            "label_scheme", f"must be one of {', '.join(Project.LabelScheme.values)}"
        )
    if "scheme_settings" in fields:
        fields["scheme_settings"] = scheme_settings_parse(fields["scheme_settings"]).as_json()
    project = Project.objects.create(name=name, created_by=created_by, **fields)
    if created_by is not None:
        Membership.objects.create(project=project, user=created_by, role=Membership.Role.ADMIN)
    return project


def project_get_or_create(
    *, name: str, created_by: Any = None, label_scheme: str = Project.LabelScheme.PAIRWISE
) -> Project:
    """The project of that name; a new one labels by ``label_scheme``."""
    project = Project.objects.filter(name=name).first()
    return project or project_create(name=name, created_by=created_by, label_scheme=label_scheme)


def membership_set(*, project: Project, user: Any, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership


def project_settings_update(
    *,
    project: Project,
    guidelines: str,
    votes_per_pair: int,
    strength_scale: list[str],
    strength_required: bool = True,
    queue_order: str,
    lease_minutes: int,
) -> Project:
    """Save the labelling settings. A new votes_per_pair reaches every pair without an
    override of its own (a trigger moves the labelling queue's wants, see webapp/labelling)."""
    project.guidelines = guidelines
    project.votes_per_pair = votes_per_pair
    project.strength_scale = strength_scale
    project.strength_required = strength_required
    project.queue_order = queue_order
    project.lease_minutes = lease_minutes
    project.save(
        update_fields=[
            "guidelines", "votes_per_pair", "strength_scale", "strength_required",
            "queue_order", "lease_minutes",
        ]
    )  # fmt: skip
    return project


def project_scheme_settings_update(*, project: Project, scheme_settings: Any) -> Project:
    """Validate and save the scheme settings (SchemeSettingsError names a bad field). Answers
    given already keep the pairs they derived; new answers derive with the new settings."""
    project.scheme_settings = scheme_settings_parse(scheme_settings).as_json()
    project.save(update_fields=["scheme_settings"])
    return project


def membership_remove(*, project: Project, user_id: int) -> int:
    deleted, _ = Membership.objects.filter(project=project, user_id=user_id).delete()
    return deleted
