"""A steps project's training run fine-tunes the encoder with the step head (on CPU here, a
tiny BERT): its job goes to the gpu queue (a preflab.gpu.* task), the loss falls, a fifth of
the labelled solutions is held out and measured, and the registered model scores steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.labelling.helpers import annotator
from webapp.celery import app
from webapp.imports.models import ImportBatch
from webapp.imports.step_items import steps_load
from webapp.imports.steps import ParsedSteps
from webapp.jobs.services import TASKS
from webapp.projects.services import project_create
from webapp.registry.models import RegisteredModel
from webapp.training.options import TrainingError, TrainingOptions
from webapp.training.services import training_run_create
from webapp.training.steps import step_training_execute
from workers import tasks
from workers.rm.step_finetune import score_step_model

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def labelled_steps_project(n: int) -> Any:
    """n solutions of three steps, each labelled by one annotator: in every other one the
    second step is wrong and says so."""
    project = project_create(name="steps", label_scheme="steps")
    labeller = annotator(project, "labeller")
    batch = ImportBatch.objects.create(project=project, file_name="steps.jsonl")
    records = [
        ParsedSteps(
            i + 1,
            f"What is {i} plus {i}?",
            [
                f"We add {i} and {i}.",
                f"This is a wrong mistake error {i}." if i % 2 else f"So it is {2 * i}.",
                f"The answer is {2 * i}.",
            ],
            1 if i % 2 else -1,
            annotator="labeller",
            external_id=str(i),
        )
        for i in range(n)
    ]
    steps_load(
        batch=batch,
        records=records,
        fmt="x",
        reject=lambda e: None,
        annotator_id=lambda _: labeller.pk,
    )
    return project


def test_a_step_fine_tune_is_a_gpu_job_and_registers_a_model_that_scores_steps(
    tiny_base_model: Path,
) -> None:
    project = labelled_steps_project(20)
    options = TrainingOptions(
        kind="step_finetune", model=str(tiny_base_model), max_length=64, epochs=8,
        batch_size=4, lr=3e-3,
    )  # fmt: skip
    run = training_run_create(project=project, options=options)
    assert run.job is not None and run.job.queue == "gpu"
    task = TASKS[run.job.kind]
    assert task == tasks.train_steps.name == "preflab.gpu.train_steps"
    assert app.amqp.router.route({}, task)["queue"].name == "gpu"
    step_training_execute(run=run, progress=lambda *a: None, cancelled=lambda: False)
    run.refresh_from_db()
    loss = run.curves["train_loss"]
    assert len(loss) == 8 and loss[-1] < 0.5 * loss[0], loss
    counts = {k: run.counts[k] for k in ("solutions", "labelled", "heldout")}
    assert counts == {"solutions": 20, "labelled": 20, "heldout": 4}
    # every labelled step trains or is measured: 10 right solutions of 3, 10 wrong of 2
    assert run.counts["training_steps"] + run.metrics["heldout_steps"] == 50
    assert 0 <= run.metrics["heldout_step_accuracy"] <= 1
    model = RegisteredModel.objects.get(run=run)
    assert model.kind == "step_finetune"
    p = score_step_model(
        folder=model.path,
        problems=["What is 3 plus 3?", "What is 4 plus 4?"],
        solutions=[["We add 3 and 3.", "This is a wrong mistake error 3."],
                   ["We add 4 and 4.", "So it is 8."]],
        max_length=64,
        device="cpu",
    )  # fmt: skip
    assert p.shape == (4,) and np.all((p >= 0) & (p <= 1))
    assert p[1] < 0.5 < p[3]  # the wrong step and a right one, as it was taught


def test_a_steps_project_trains_only_a_step_model_and_a_pair_project_none() -> None:
    steps = labelled_steps_project(4)
    with pytest.raises(TrainingError, match="fine-tunes its step model"):
        training_run_create(project=steps, options=TrainingOptions(kind="head"))
    pairs = project_create(name="pairs")
    with pytest.raises(TrainingError, match="only a steps project"):
        training_run_create(project=pairs, options=TrainingOptions(kind="step_finetune"))
