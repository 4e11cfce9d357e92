"""Typed payloads sent over Channels, and the one function that sends them.

A job's page joins the group ``job.<id>``; workers and commands publish progress there.
Delivery is best effort: the Job row in PostgreSQL is the truth, and the page reloads it
when its socket reconnects.
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


def publish(group: str, event: JobProgress) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    payload: dict[str, Any] = asdict(event)
    try:
        from webapp.celery import ensure_broker

        ensure_broker()
        async_to_sync(layer.group_send)(group, payload)
    except Exception:  # the row is the truth; a missed live update must never fail a job
        log.warning("could not publish %s to %s", event.type, group, exc_info=True)
