"""Is PrefLab healthy? The database, the broker, the channel layer and the workers, each checked."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.db import connection

from webapp.jobs.models import Job
from webapp.jobs.services import STALE_AFTER


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    ms: float


def _timed(name: str, fn: Any) -> Check:
    start = time.perf_counter()
    try:
        ok, detail = fn()
    except Exception as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return Check(name, ok, detail, round((time.perf_counter() - start) * 1000, 1))


def _database() -> tuple[bool, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
    return True, version.split(" on ")[0]


def _broker() -> tuple[bool, str]:
    from webapp.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return True, conn.as_uri()


def _workers() -> tuple[bool, str]:
    from webapp.celery import app

    replies = app.control.ping(timeout=1.0) or []
    names = sorted(name for reply in replies for name in reply)
    if not names:
        return False, "no Celery worker answered within 1 s"
    queues = app.control.inspect(timeout=1.0).active_queues() or {}
    described = [f"{n} ({', '.join(q['name'] for q in queues.get(n, []))})" for n in names]
    return True, "; ".join(described)


def _channels() -> tuple[bool, str]:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return False, "no channel layer configured"
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "health.ping"})
    message = async_to_sync(layer.receive)(channel)
    return message.get("type") == "health.ping", type(layer).__name__


def _jobs() -> tuple[bool, str]:
    from django.utils import timezone

    running = Job.objects.filter(status=Job.Status.RUNNING)
    stale = running.filter(heartbeat_at__lt=timezone.now() - STALE_AFTER).count()
    queued = Job.objects.filter(status=Job.Status.QUEUED).count()
    detail = f"{running.count()} running, {queued} queued, {stale} without a heartbeat"
    return stale == 0, detail


def health_checks() -> list[Check]:
    return [
        _timed("database", _database),
        _timed("broker", _broker),
        _timed("channel layer", _channels),
        _timed("workers", _workers),
        _timed("jobs", _jobs),
    ]
