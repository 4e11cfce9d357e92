from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from webapp.jobs.models import Job
from webapp.projects.models import Membership


def jobs_visible_to(*, user: Any) -> QuerySet[Job]:
    """Jobs of the projects where the user reviews or administers (all, for a superuser).

    Annotators see no jobs: imports, scoring runs and exports report on labels and flags that
    blind labelling keeps from them."""
    if user.is_superuser:
        return Job.objects.all()
    return Job.objects.filter(
        project__memberships__user=user,
        project__memberships__role__in=[Membership.Role.REVIEWER, Membership.Role.ADMIN],
    )


def job_visible_to(*, user: Any, job_id: int) -> Job | None:
    return jobs_visible_to(user=user).filter(pk=job_id).select_related("project").first()
