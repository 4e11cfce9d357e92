"""Killing a worker in the middle of a job, and what the stale-job reaper must do after."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.conftest import process_env, start_worker
from webapp.jobs import services as job_services
from webapp.jobs.models import Job


@contextmanager
def gpu_worker_killed_at_the_end(tmp_path: Path) -> Iterator[None]:
    """A worker on the `gpu` queue (no other worker of a test listens to it) for the body of the
    with, killed with SIGKILL at its end: no chance to mark its job failed."""
    worker = start_worker(process_env(), tmp_path / "gpu.log", name="gpu", queues="gpu")
    try:
        yield
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()


def assert_reaped_and_incomplete(monkeypatch: Any, run: Any) -> None:
    """The killed run's job is still running, as nobody is left to say otherwise; the reaper
    fails it for not reporting, a redelivered task cannot claim it, and the run is incomplete."""
    job = Job.objects.get(pk=run.job_id)
    assert job.status == Job.Status.RUNNING
    monkeypatch.setattr(job_services, "STALE_AFTER", timedelta(seconds=0))
    assert len(job_services.jobs_reap_stale()) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "stopped reporting" in job.error
    assert job_services.job_claim(job_id=job.pk) is None
    run.refresh_from_db()
    assert not run.complete
