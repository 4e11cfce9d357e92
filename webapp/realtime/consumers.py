"""The one shape of PrefLab's WebSocket consumers: a page listens to one object's group, and
only members of that object's project may listen (others are closed with 4403).

A consumer names the URL argument that holds the object's id, the object's group, who may see
it and, if the page wants one, a first message sent on connect. Events whose ``type`` is the
consumer's ``event`` (``job.progress`` -> ``job_progress``, as Channels dispatches) go to the
page as they are.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer


class MembersOnlyConsumer(AsyncJsonWebsocketConsumer):
    url_kwarg = "id"
    event = ""  # the event type this consumer forwards, e.g. "job.progress"

    def group_for(self, object_id: int) -> str:
        raise NotImplementedError

    def may_see(self, user: Any, object_id: int) -> bool:
        """Runs in a database thread."""
        raise NotImplementedError

    def snapshot(self, object_id: int) -> dict[str, Any] | None:
        """The first message, sent on connect (runs in a database thread); None for none."""
        return None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.event:
            setattr(cls, cls.event.replace(".", "_"), cls.forward)

    async def connect(self) -> None:
        user = self.scope.get("user")
        object_id = int(self.scope["url_route"]["kwargs"][self.url_kwarg])
        allowed = user is not None and user.is_authenticated
        if not allowed or not await database_sync_to_async(self.may_see)(user, object_id):
            await self.close(code=4403)
            return
        self.group = self.group_for(object_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        first = await database_sync_to_async(self.snapshot)(object_id)
        if first is not None:
            await self.send_json(first)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def forward(self, event: dict[str, Any]) -> None:
        await self.send_json(event)
