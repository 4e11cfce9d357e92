"""A worker killed in the middle of a fine-tune leaves a failed run and no model version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_until
from tests.jobs.helpers import assert_reaped_and_incomplete, gpu_worker_killed_at_the_end
from tests.training.helpers import labelled_project, quick
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
    with gpu_worker_killed_at_the_end(tmp_path):
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
    assert_reaped_and_incomplete(monkeypatch, run)
    assert not RegisteredModel.objects.filter(project=project).exists()
    folder = models_root() / str(project.pk)
    assert not list(folder.glob("v*"))
