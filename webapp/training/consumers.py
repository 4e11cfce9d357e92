from __future__ import annotations

from typing import Any

from webapp.realtime.consumers import MembersOnlyConsumer
from webapp.realtime.events import training_group
from webapp.training.selectors import run_visible_to


class TrainingRunConsumer(MembersOnlyConsumer):
    """Streams a training run's per-epoch curves to its page; the page starts from the curves
    stored on the run."""

    url_kwarg = "run_id"
    event = "training.epoch"

    def group_for(self, object_id: int) -> str:
        return training_group(object_id)

    def may_see(self, user: Any, object_id: int) -> bool:
        return run_visible_to(user=user, run_id=object_id) is not None
