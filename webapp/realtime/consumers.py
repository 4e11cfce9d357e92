from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.realtime.events import job_group


class JobConsumer(AsyncJsonWebsocketConsumer):
    """Streams one job's progress to its page. Only members of the job's project may listen."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        job_id = int(self.scope["url_route"]["kwargs"]["job_id"])
        if user is None or not user.is_authenticated or not await self._may_see(user, job_id):
            await self.close(code=4403)
            return
        self.group = job_group(job_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await self._snapshot(job_id))

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def job_progress(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    @database_sync_to_async
    def _may_see(self, user: Any, job_id: int) -> bool:
        from webapp.jobs.selectors import job_visible_to

        return job_visible_to(user=user, job_id=job_id) is not None

    @database_sync_to_async
    def _snapshot(self, job_id: int) -> dict[str, Any]:
        from dataclasses import asdict

        from webapp.jobs.models import Job
        from webapp.jobs.services import job_event

        return asdict(job_event(job=Job.objects.get(pk=job_id)))
