"""A training run end to end in-process: fixed held-out split, recipe, metrics, versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.training.helpers import labelled_project, quick, scoring_run_with
from webapp.labelling.models import GoldAnswer
from webapp.registry.models import RegisteredModel
from webapp.training.models import HeldOutPair, TrainingRun
from webapp.training.services import training_run_create, training_run_execute
from workers.rm.saved import read_manifest

pytestmark = pytest.mark.slow


def _execute(run: TrainingRun) -> TrainingRun:
    steps: list[tuple[int, int]] = []
    training_run_execute(
        run=run, progress=lambda d, t, m="": steps.append((d, t)), cancelled=lambda: False
    )
    run.refresh_from_db()
    assert steps, "no progress was reported"
    return run


def test_two_runs_share_the_held_out_split_and_get_their_own_versions(
    project: Any, tmp_path: Path
) -> None:
    labelled = labelled_project(project, tmp_path)
    rng = np.random.default_rng(0)
    scoring = scoring_run_with(project, {pid: float(rng.normal()) for pid in labelled})
    GoldAnswer.objects.create(pair_id=labelled[0], project=project, choice="a")

    plain = _execute(training_run_create(project=project, options=quick()))
    held = set(HeldOutPair.objects.filter(project=project).values_list("pair_id", flat=True))
    assert len(held) == round(0.2 * len(labelled))
    cleaned = _execute(
        training_run_create(
            project=project, options=quick(flip_below=-1.0, margin_lambda=0.5, smoothing=0.05)
        )
    )
    # fixed once: the second run used the very same held-out pairs, and trained on the rest
    again = HeldOutPair.objects.filter(project=project).values_list("pair_id", flat=True)
    assert set(again) == held
    for run in (plain, cleaned):
        assert run.complete
        assert run.counts["pairs"] == len(labelled) - len(held)
        assert run.counts["heldout"] == run.metrics["n"] == len(held)
        assert len(run.curves["heldout_accuracy"]) == 3
        assert 0.0 <= run.metrics["accuracy"] <= 1.0 and run.metrics["ece"] >= 0
        assert sum(row["n"] for row in run.metrics["by_decile"]) == len(held)
    assert cleaned.scoring_run_id == scoring.pk
    assert cleaned.counts["flipped"] == sum(
        1 for pid in labelled if pid not in held
        and scoring.scores.get(pair_id=pid).mu < -1.0
    )  # fmt: skip
    assert cleaned.name == "flip mu<-1 + smooth 0.05 + margin 0.5*mu"

    models = list(RegisteredModel.objects.filter(project=project).order_by("version"))
    assert [(m.version, m.run_id) for m in models] == [(1, plain.pk), (2, cleaned.pk)]
    for m in models:
        folder = Path(m.path)
        assert folder.name == f"v{m.version}" and folder.parent.name == str(project.pk)
        assert {f["name"] for f in m.files} == {"head.safetensors", "preflab_model.json"}
        manifest = read_manifest(folder)
        assert manifest is not None and manifest["kind"] == "head"
        assert manifest["training_run"] == m.run_id
    assert (
        json.loads((Path(models[1].path) / "preflab_model.json").read_text())["recipe"][
            "flip_below"
        ]
        == -1.0
    )
    # nothing but the two versions in the project's folder: no temporary leftovers
    assert sorted(p.name for p in Path(models[0].path).parent.iterdir()) == ["v1", "v2"]
