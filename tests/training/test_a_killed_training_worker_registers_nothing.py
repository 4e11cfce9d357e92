"""A worker killed in the middle of a fine-tune leaves a failed run and no model version."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import process_env, start_worker, wait_until
from tests.training.helpers import labelled_project, quick
from webapp.jobs import services as job_services
from webapp.jobs.models import Job
from webapp.registry.models import RegisteredModel
from webapp.registry.services import models_root
from webapp.training.models import TrainingRun
from webapp.training.services import training_run_create

pytestmark = pytest.mark.slow


def test_a_killed_fine_tune_leaves_a_failed_job_and_no_version(
    celery_worker: Any, project: Any, tmp_path: Path, monkeypatch: Any, tiny_base_model: Path
) -> None:
    labelled_project(project, tmp_path, n=40)
    # fine-tunes go to the `gpu` queue, which only this test's worker listens to
    gpu_worker = start_worker(process_env(), tmp_path / "gpu.log", name="gpu", queues="gpu")
    try:
        run = training_run_create(
            project=project,
            options=quick(kind="finetune", model=str(tiny_base_model), epochs=500, batch_size=2),
        )
        assert run.job is not None and run.job.queue == "gpu"
        # killed while it trains: some epochs are done and stored as curves
        wait_until(
            lambda: len(TrainingRun.objects.get(pk=run.pk).curves.get("train_loss", [])) >= 1,
            timeout=180,
        )
    finally:
        os.kill(gpu_worker.pid, signal.SIGKILL)
        gpu_worker.wait()
    job = Job.objects.get(pk=run.job.pk)
    assert job.status == Job.Status.RUNNING  # nobody is left to say otherwise
    monkeypatch.setattr(job_services, "STALE_AFTER", timedelta(seconds=0))
    assert len(job_services.jobs_reap_stale()) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "stopped reporting" in job.error
    run.refresh_from_db()
    assert not run.complete
    assert not RegisteredModel.objects.filter(project=project).exists()
    folder = models_root() / str(project.pk)
    assert not list(folder.glob("v*"))
    # a redelivered task cannot claim a job that was failed
    assert job_services.job_claim(job_id=job.pk) is None
