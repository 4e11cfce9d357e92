"""The Celery app. Heavy work that wants a GPU goes to its own queue, `gpu`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("preflab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.include = ["workers.tasks"]
app.conf.task_routes = {"preflab.gpu.*": {"queue": "gpu"}}
# Run by the worker's beat (`celery worker --beat`, as `make run` does, or a beat process).
app.conf.beat_schedule = {
    "reap-stale-jobs": {"task": "preflab.reap_stale_jobs", "schedule": 60.0},
}

GPU_QUEUE = "gpu"
DEFAULT_QUEUE = "default"


def ensure_broker() -> None:
    """Start the embedded Redis when PrefLab runs on its embedded default (a no-op otherwise)."""
    from django.conf import settings

    if settings.EMBEDDED_REDIS:
        from webapp import embedded

        embedded.ensure_redis(Path(settings.PREFLAB_HOME))


@signals.celeryd_init.connect
def _start_embedded_broker(**_: Any) -> None:
    ensure_broker()
