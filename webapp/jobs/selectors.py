from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from webapp.jobs.models import Job


def jobs_visible_to(*, user: Any) -> QuerySet[Job]:
    """Jobs of the projects the user belongs to (all jobs for a superuser)."""
    if user.is_superuser:
        return Job.objects.all()
    return Job.objects.filter(project__memberships__user=user)


def job_visible_to(*, user: Any, job_id: int) -> Job | None:
    return jobs_visible_to(user=user).filter(pk=job_id).select_related("project").first()
