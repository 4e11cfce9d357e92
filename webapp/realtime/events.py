"""Typed payloads sent over Channels, their groups, and the one function that sends them.

A page joins the group of what it shows (``job.<id>``, ``training.<run id>``); workers and
commands publish there. Delivery is best effort: the rows in PostgreSQL are the truth (a job's
progress, a training run's curves), and a page starts from them when its socket (re)connects.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger("preflab.realtime")


def job_group(job_id: int) -> str:
    return f"job.{job_id}"


def training_group(run_id: int) -> str:
    return f"training.{run_id}"


@dataclass(frozen=True, slots=True)
class JobProgress:
    job_id: int
    status: str
    done: int
    total: int
    percent: float
    message: str
    error: str = ""
    result_url: str = ""

    type: str = "job.progress"


@dataclass(frozen=True, slots=True)
class TrainingEpoch:
    """One point of a training run's curves, per epoch."""

    run_id: int
    epoch: int  # 0-based
    train_loss: float
    train_accuracy: float
    heldout_loss: float
    heldout_accuracy: float

    type: str = "training.epoch"


def publish(group: str, event: JobProgress | TrainingEpoch) -> None:
    """Send ``event`` to everyone in ``group``. Never raises: a missed live update must not
    fail the job that sent it."""
    layer = get_channel_layer()
    if layer is None:
        return
    payload: dict[str, Any] = asdict(event)
    try:
        from webapp.celery import ensure_broker

        ensure_broker()
        async_to_sync(layer.group_send)(group, payload)
    except Exception:
        log.warning("could not publish %s to %s", event.type, group, exc_info=True)
