"""Training runs of a steps project: fine-tune mode of the step model, on the `gpu` queue
(task preflab.gpu.train_steps). The encoder is fine-tuned with a one-output step head
(workers/rm/step_finetune.py) on the effective step labels (webapp/labelling/step_labels.py),
a fixed share of the labelled solutions held out and measured, and the model registered as
a version of the project, as a pair model is (services.run_register).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from webapp.jobs.runs import run_create
from webapp.jobs.services import JobCancelled
from webapp.labelling.step_labels import step_items, step_labels, trainable_targets
from webapp.projects.models import Project
from webapp.training.models import TrainingRun
from webapp.training.options import TrainingError, TrainingOptions
from webapp.training.services import HOLDOUT_SEED, HOLDOUT_SHARE, run_register

Progress = Callable[..., None]
MIN_LABELLED = 4  # solutions with step labels, so that some train and one is held out
JOB_KIND = "train_steps"  # webapp/jobs/services.py TASKS: preflab.gpu.train_steps


def step_finetune_config(options: TrainingOptions) -> Any:
    """The options as the step model's fine-tune config (its defaults where they leave one
    unset)."""
    from workers.rm.config import StepFinetuneConfig

    config = StepFinetuneConfig(
        max_length=options.max_length, epochs=options.epochs, seed=options.seed
    )
    given: dict[str, Any] = {
        "model": options.model,
        "lr": options.lr,
        "batch_size": options.batch_size,
    }
    config = dataclasses.replace(config, **{k: v for k, v in given.items() if v})
    if config.epochs < 1 or config.batch_size < 1 or config.lr <= 0:
        raise TrainingError("epochs, batch size and learning rate must be positive")
    return config


def step_training_run_create(
    *, project: Project, options: TrainingOptions, created_by: Any = None
) -> TrainingRun:
    """A queued fine-tune of the project's step model, its job on the `gpu` queue. Raises
    TrainingError for a bad request."""
    if project.label_scheme != Project.LabelScheme.STEPS:
        raise TrainingError("only a steps project trains a step model")
    if options.kind != TrainingRun.Kind.STEP_FINETUNE:
        raise TrainingError(
            f"a steps project fine-tunes its step model (kind {TrainingRun.Kind.STEP_FINETUNE}), "
            f"not {options.kind!r}"
        )
    step_finetune_config(options)
    return run_create(
        TrainingRun,
        job_kind=JOB_KIND,
        project=project,
        params=asdict(options),
        config={"options": asdict(options)},
        created_by=created_by,
        queue="gpu",
        kind=options.kind,
        name="step model fine-tune",
    )


def held_out_solutions(n: int) -> np.ndarray:
    """(n,) True for the labelled solutions held out: HOLDOUT_SHARE of them, at least one,
    drawn with the fixed seed."""
    held = np.zeros(n, dtype=bool)
    size = max(1, round(HOLDOUT_SHARE * n))
    held[np.random.default_rng(HOLDOUT_SEED).choice(n, size=size, replace=False)] = True
    return held


def step_training_execute(
    *, run: TrainingRun, progress: Progress, cancelled: Callable[[], bool]
) -> TrainingRun:
    """Fine-tune, measure on the held-out solutions, register the model. Raises
    JobCancelled, and TrainingError when too few solutions are labelled."""
    from workers import rm
    from workers.rm.step_finetune import finetune_steps
    from workers.rm.steps import StepLayout

    options = TrainingOptions(**run.config.get("options", {}))
    config = step_finetune_config(options)
    items = step_items(project=run.project)
    labels = step_labels(project=run.project, n_steps={i.item_id: len(i.steps) for i in items})
    labelled = [k for k, item in enumerate(items) if item.item_id in labels]
    if len(labelled) < MIN_LABELLED:
        raise TrainingError(
            f"only {len(labelled)} solutions have step labels; fine-tuning needs {MIN_LABELLED}"
        )
    targets = trainable_targets(items=items, labels=labels)
    layout = StepLayout.of([len(i.steps) for i in items])
    held = np.zeros(len(items), dtype=bool)
    held[labelled] = held_out_solutions(len(labelled))
    held_steps = held[layout.solution_of_step]
    train_targets = np.where(held_steps, np.nan, targets)
    try:
        result = finetune_steps(
            problems=[i.problem for i in items],
            solutions=[i.steps for i in items],
            targets=train_targets,
            config=config,
            progress=progress,
            cancel=cancelled,
        )
    except rm.Cancelled as exc:
        raise JobCancelled(str(exc)) from exc
    measured = held_steps & np.isfinite(targets)
    right = (result.p_correct[measured] >= 0.5) == (targets[measured] == 1)
    metrics = {
        "heldout_step_accuracy": float(right.mean()) if right.size else float("nan"),
        "heldout_steps": int(measured.sum()),
        "train_loss": result.curves["train_loss"][-1],
    }
    counts = {
        "solutions": len(items),
        "labelled": len(labelled),
        "heldout": int(held.sum()),
        "training_steps": int(np.isfinite(train_targets).sum()),
    }
    manifest = {
        "kind": run.kind,
        "project": run.project_id,
        "training_run": run.pk,
        "base_model": config.model,
        "max_length": config.max_length,
        "train": config.to_dict(),
        "heldout_step_accuracy": metrics["heldout_step_accuracy"],
    }
    progress(1, 1, "saving the model")
    stored = {
        "options": asdict(options),
        "train": config.to_dict(),
        "holdout": {"share": HOLDOUT_SHARE, "seed": HOLDOUT_SEED},
    }
    run_register(run, result, manifest=manifest, metrics=metrics, counts=counts, config=stored)
    return run
