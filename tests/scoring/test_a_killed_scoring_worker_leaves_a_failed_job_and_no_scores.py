"""A worker killed in the middle of a run leaves a failed job and no scores, never half a run."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import process_env, start_worker, wait_until
from tests.scoring.test_a_scoring_run_on_a_worker_stores_every_labelled_pair import load_pairs
from webapp.jobs import services as job_services
from webapp.jobs.models import Job
from webapp.scoring.models import PairScore, ScoringRun
from webapp.scoring.services import ScoringOptions, scoring_run_create

pytestmark = pytest.mark.slow


def test_a_killed_worker_leaves_a_failed_job_and_nothing_stored(
    celery_worker: Any, project: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    load_pairs(project, tmp_path, n=80)
    # Fine-tune mode goes to the `gpu` queue, which only this test's worker listens to.
    gpu_worker = start_worker(process_env(), tmp_path / "gpu.log", name="gpu", queues="gpu")
    try:
        run = scoring_run_create(
            project=project,
            options=ScoringOptions(mode=ScoringRun.Mode.FINETUNE, n_models=2, n_folds=2),
        )
        assert run.job is not None and run.job.queue == "gpu"
        wait_until(lambda: Job.objects.get(pk=run.job.pk).status == Job.Status.RUNNING)
        time.sleep(2)  # into the work: loading the model, tokenising
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
    assert not PairScore.objects.filter(run=run).exists()
    # a redelivered task cannot claim a job that was failed
    assert job_services.job_claim(job_id=job.pk) is None
