"""Two runs of one project trained at the same time get their own versions and folders."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from tests.training.helpers import labelled_project, quick
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
            training_run_execute(run=run, progress=lambda *a: None, cancelled=lambda: False)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=train, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    models = RegisteredModel.objects.filter(project=project).order_by("version")
    assert [m.version for m in models] == [1, 2]
    assert {m.run_id for m in models} == {r.pk for r in runs}
    folders = {Path(m.path) for m in models}
    assert len(folders) == 2 and all((f / "head.safetensors").is_file() for f in folders)
    assert sorted(p.name for p in next(iter(folders)).parent.iterdir()) == ["v1", "v2"]
