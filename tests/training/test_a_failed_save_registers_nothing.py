"""A run that fails while writing its model leaves no version, no folder and no complete run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.training.helpers import labelled_project, quick
from webapp.registry.models import RegisteredModel
from webapp.registry.services import models_root
from webapp.training.services import training_run_create, training_run_execute
from workers.rm import saved

pytestmark = pytest.mark.slow


def test_a_crash_halfway_through_the_weights_leaves_nothing_registered(
    project: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    labelled_project(project, tmp_path)
    run = training_run_create(project=project, options=quick())
    real_save = saved.save_model

    def crash(*, folder: Path, result: Any, manifest: dict[str, Any]) -> list[str]:
        real_save(folder=folder, result=result, manifest=manifest)
        (folder / "head.safetensors").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(saved, "save_model", crash)
    with pytest.raises(OSError, match="disk full"):
        training_run_execute(run=run, progress=lambda *a: None, cancelled=lambda: False)
    run.refresh_from_db()
    assert not run.complete and not RegisteredModel.objects.exists()
    folder = models_root() / str(project.pk)
    assert list(folder.iterdir()) == []
