"""Two runs of one project trained at the same time get their own versions and folders."""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from tests.training.helpers import labelled_project, quick
from webapp.jobs.models import Job
from webapp.jobs.runs import run_execute
from webapp.registry.models import RegisteredModel
from webapp.training.models import TrainingRun
from webapp.training.services import training_run_create, training_run_execute

pytestmark = pytest.mark.slow


def test_parallel_runs_register_distinct_versions(
    transactional_db: Any, project: Any, tmp_path: Path
) -> None:
    labelled_project(project, tmp_path, n=40)
    runs = [
        training_run_create(project=project, options=quick(seed=seed, epochs=2))
        for seed in range(2)
    ]
    # Workers run one job per process; here two threads share one, and transformers' lazy
    # imports are not thread-safe on first use, so import what the runs load first.
    from transformers import AutoModel, AutoTokenizer  # noqa: F401

    errors: list[BaseException] = []
    start = threading.Barrier(len(runs))

    def train(run: TrainingRun) -> None:
        try:
            start.wait()
            # Claim the job first, as a worker's task does: a live worker that was sent the
            # same job finds it taken (and the other way round), so each run runs once.
            run_execute(TrainingRun, job_id=run.job_id, execute=training_run_execute)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=train, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, "".join(traceback.format_exception(errors[0]))
    # A run this thread found taken is run by a worker: wait until both have ended.
    jobs = Job.objects.filter(pk__in=[run.job_id for run in runs])
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and (
        TrainingRun.objects.filter(pk__in=[r.pk for r in runs], complete=True).count() < 2
        and not jobs.filter(status__in=Job.FINISHED).exclude(status=Job.Status.SUCCEEDED)
    ):
        time.sleep(0.5)
    assert not jobs.exclude(status__in=[Job.Status.RUNNING, Job.Status.SUCCEEDED]).exists(), [
        (job.status, job.error) for job in jobs
    ]
    models = RegisteredModel.objects.filter(project=project).order_by("version")
    assert [m.version for m in models] == [1, 2]
    assert {m.run_id for m in models} == {r.pk for r in runs}
    folders = {Path(m.path) for m in models}
    assert len(folders) == 2 and all((f / "head.safetensors").is_file() for f in folders)
    assert sorted(p.name for p in next(iter(folders)).parent.iterdir()) == ["v1", "v2"]
