from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.training.events import training_group


class TrainingRunConsumer(AsyncJsonWebsocketConsumer):
    """Streams a training run's per-epoch curves to its page; members of its project only."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        if user is None or not user.is_authenticated or not await self._may_see(user, run_id):
            await self.close(code=4403)
            return
        self.group = training_group(run_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def training_epoch(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    @database_sync_to_async
    def _may_see(self, user: Any, run_id: int) -> bool:
        from webapp.training.selectors import run_visible_to

        return run_visible_to(user=user, run_id=run_id) is not None
