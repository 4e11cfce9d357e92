"""A worker killed in the middle of a run leaves a failed job and no scores, never half a run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_until
from tests.jobs.helpers import assert_reaped_and_incomplete, gpu_worker_killed_at_the_end
from tests.scoring.test_a_scoring_run_on_a_worker_stores_every_labelled_pair import load_pairs
from webapp.jobs.models import Job
from webapp.scoring.models import PairScore, ScoringRun
from webapp.scoring.services import ScoringOptions, scoring_run_create

pytestmark = pytest.mark.slow


def test_a_killed_worker_leaves_a_failed_job_and_nothing_stored(
    celery_worker: Any, project: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    load_pairs(project, tmp_path, n=80)
    # Fine-tune mode goes to the `gpu` queue, which only this test's worker listens to.
    with gpu_worker_killed_at_the_end(tmp_path):
        run = scoring_run_create(
            project=project,
            options=ScoringOptions(mode=ScoringRun.Mode.FINETUNE, n_models=2, n_folds=2),
        )
        assert run.job is not None and run.job.queue == "gpu"
        wait_until(lambda: Job.objects.get(pk=run.job.pk).status == Job.Status.RUNNING)
        time.sleep(2)  # into the work: loading the model, tokenising
    assert_reaped_and_incomplete(monkeypatch, run)
    assert not PairScore.objects.filter(run=run).exists()
