from __future__ import annotations

from dataclasses import asdict
from typing import Any

from webapp.jobs.models import Job
from webapp.jobs.selectors import job_visible_to
from webapp.jobs.services import job_event
from webapp.realtime.consumers import MembersOnlyConsumer
from webapp.realtime.events import job_group


class JobConsumer(MembersOnlyConsumer):
    """Streams one job's progress to its page, starting with where it stands now."""

    url_kwarg = "job_id"
    event = "job.progress"

    def group_for(self, object_id: int) -> str:
        return job_group(object_id)

    def may_see(self, user: Any, object_id: int) -> bool:
        return job_visible_to(user=user, job_id=object_id) is not None

    def snapshot(self, object_id: int) -> dict[str, Any] | None:
        return asdict(job_event(job=Job.objects.get(pk=object_id)))
