"""Live training curves over Channels: one point per epoch, to the group ``training.<run id>``.

Best effort like job progress (webapp/realtime/events.py): TrainingRun.curves in PostgreSQL is
the truth, and the run page starts from it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger("preflab.training")


def training_group(run_id: int) -> str:
    return f"training.{run_id}"


@dataclass(frozen=True, slots=True)
class TrainingEpoch:
    run_id: int
    epoch: int  # 0-based
    train_loss: float
    train_accuracy: float
    heldout_loss: float
    heldout_accuracy: float

    type: str = "training.epoch"


def publish_epoch(event: TrainingEpoch) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        from webapp.celery import ensure_broker

        ensure_broker()
        async_to_sync(layer.group_send)(training_group(event.run_id), asdict(event))
    except Exception:  # a missed point must never fail a run
        log.warning(
            "could not publish epoch %s of run %s", event.epoch, event.run_id, exc_info=True
        )
