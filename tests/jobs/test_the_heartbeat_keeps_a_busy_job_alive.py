"""A long step between progress reports does not make a live job look dead to the reaper."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from webapp.jobs import services
from webapp.jobs.models import Job


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_a_busy_job_alive(project: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "HEARTBEAT_EVERY_S", 0.05)
    job = services.job_create(kind="import", project=project, params={}, enqueue=False)
    claimed = services.job_claim(job_id=job.pk)
    assert claimed is not None
    long_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=long_ago)
    with services.job_heartbeat(job=claimed):
        time.sleep(0.5)  # one long step with no progress report
    beat = Job.objects.get(pk=job.pk).heartbeat_at
    assert beat is not None and beat > long_ago + timedelta(minutes=59)
    monkeypatch.setattr(services, "STALE_AFTER", timedelta(seconds=30))
    assert services.jobs_reap_stale() == []
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING
