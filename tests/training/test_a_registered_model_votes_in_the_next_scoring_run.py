"""Label, clean, retrain, rescore: a registered reward head is a member of the next scoring run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.training.helpers import labelled_project, quick
from webapp.jobs.runs import run_execute
from webapp.registry.models import RegisteredModel
from webapp.scoring.models import PairScore, ScoringRun
from webapp.scoring.services import scoring_run_execute
from webapp.training.models import TrainingRun
from webapp.training.services import training_run_create, training_run_execute
from workers.rm.evaluate import accuracy

pytestmark = pytest.mark.slow


def test_the_scoring_form_adds_a_registered_head_as_a_member(
    admin_client: Any, project: Any, tmp_path: Path
) -> None:
    labelled_project(project, tmp_path, n=40)
    run = training_run_create(project=project, options=quick())
    training_run_execute(run=run, progress=lambda *a: None, cancelled=lambda: False)
    model = RegisteredModel.objects.get(run=run)
    response = admin_client.post(
        f"/projects/{project.pk}/score/",
        {"mode": "oof", "n_models": 2, "n_folds": 2, "registered_model": model.pk},
    )
    assert response.status_code == 302
    scoring = ScoringRun.objects.get()
    assert scoring.config["options"]["reward_models"] == [model.path]
    # as the run's task does: claim the job, then run it
    assert run_execute(ScoringRun, job_id=scoring.job_id, execute=scoring_run_execute)
    scoring.refresh_from_db()
    assert scoring.complete and scoring.member_names[-1] == f"rm:{model.path}"
    # the head's column is its own margins on the held-out pairs: the run's accuracy again
    run = TrainingRun.objects.get(pk=run.pk)
    held = set(run.project.held_out_pairs.values_list("pair_id", flat=True))
    column = [s.margins[-1] for s in PairScore.objects.filter(run=scoring, pair_id__in=held)]
    assert accuracy(np.array(column)) == pytest.approx(run.metrics["accuracy"])
