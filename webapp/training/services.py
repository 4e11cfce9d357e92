"""Training runs: the held-out split, the cleaned targets, training, metrics and the registry.

The model work is in workers/rm (recipes, training, evaluate, saved; no Django). This module
moves data: labelled pairs out of PostgreSQL, per-epoch curves back as they come, and at the
end one transaction that moves the finished model folder into place under its version number
and marks the run complete. A model is written into a temporary folder beside the registry
first, so a worker killed mid-run (or mid-write) leaves no version behind.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.benchmarks.selectors import is_benchmark_project
from webapp.flags.models import Flag
from webapp.jobs.runs import run_create, versions
from webapp.jobs.services import JobCancelled
from webapp.labelling.models import GoldAnswer
from webapp.pairs.labels import effective_labels
from webapp.projects.models import Project
from webapp.realtime.events import TrainingEpoch, publish, training_group
from webapp.registry.models import RegisteredModel
from webapp.registry.services import model_registered, work_folder
from webapp.scoring.models import PairScore, ScoringRun
from webapp.scoring.selectors import labelled_pairs, latest_complete_run
from webapp.training.models import HeldOutPair, TrainingRun
from webapp.training.options import TrainingError, TrainingOptions

Progress = Callable[..., None]

# Share of a project's labelled pairs held out, drawn once with this seed.
HOLDOUT_SHARE = 0.2
HOLDOUT_SEED = 0
MIN_LABELLED = 10
# The libraries whose versions a run records.
LIBRARIES = ("torch", "transformers", "numpy", "scikit-learn", "safetensors")


def holdout_ensure(*, project: Project) -> int:
    """Draw the project's held-out split if it has none (once, ever); its size.

    HOLDOUT_SHARE of the pairs with an A/B effective label, at random with a fixed seed. The
    project row is locked, so two first runs started at once draw it once."""
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        existing = HeldOutPair.objects.filter(project=project).count()
        if existing:
            return existing
        labels = effective_labels(project=project)
        labelled = sorted(pid for pid, eff in labels.items() if eff.label in ("a", "b"))
        if len(labelled) < MIN_LABELLED:
            raise TrainingError(
                f"only {len(labelled)} pairs have an A/B label; training needs {MIN_LABELLED}"
            )
        size = max(1, round(HOLDOUT_SHARE * len(labelled)))
        rng = np.random.default_rng(HOLDOUT_SEED)
        chosen = np.sort(rng.choice(np.asarray(labelled), size=size, replace=False))
        HeldOutPair.objects.bulk_create(
            [HeldOutPair(pair_id=int(pid), project=project) for pid in chosen], batch_size=5000
        )
        return size


def training_run_create(
    *, project: Project, options: TrainingOptions, created_by: Any = None
) -> TrainingRun:
    """Check the options, fix the held-out split, store a queued run and enqueue its job
    (on the `gpu` queue for a fine-tune). A steps project's run, or one of kind
    step_finetune, is webapp/training/steps.py's. Raises TrainingError for a bad request."""
    if (
        project.label_scheme == Project.LabelScheme.STEPS
        or options.kind == TrainingRun.Kind.STEP_FINETUNE
    ):
        from webapp.training.steps import step_training_run_create  # it imports this module

        return step_training_run_create(project=project, options=options, created_by=created_by)
    if is_benchmark_project(project=project):
        raise TrainingError("this project holds a benchmark: nothing trains on a benchmark")
    recipe = options.recipe()
    options.train_config()
    unknown = set(options.drop_flag_kinds) - set(Flag.Kind.values)
    if unknown:
        raise TrainingError(f"unknown flag kinds {sorted(unknown)}")
    scoring_run = None
    if options.scoring_run is not None:
        scoring_run = ScoringRun.objects.filter(
            pk=options.scoring_run, project=project, complete=True
        ).first()
        if scoring_run is None:
            raise TrainingError(f"no complete scoring run {options.scoring_run} in this project")
    else:  # the latest, also for recipes that read no mu: its deciles split the metrics
        scoring_run = latest_complete_run(project=project)
    if recipe.needs_strength and scoring_run is None:
        raise TrainingError(f"recipe {recipe.name()!r} needs mu: score the pairs first")
    holdout_ensure(project=project)
    options = dataclasses.replace(
        options, scoring_run=scoring_run.pk if scoring_run is not None else None
    )
    return run_create(
        TrainingRun,
        job_kind="train",
        project=project,
        params=asdict(options),
        config={"options": asdict(options)},
        created_by=created_by,
        queue="gpu" if options.kind == TrainingRun.Kind.FINETUNE else "default",
        kind=options.kind,
        scoring_run=scoring_run,
        name=recipe.name(),
    )


def _strength(run: TrainingRun, ids: list[int], labels: list[str]) -> tuple[Any, Any]:
    """(N,) mu of each pair, oriented to its label now (NaN where not scored), and (N,) decile
    (-1 where not scored), from the run's scoring run."""
    n = len(ids)
    mu = np.full(n, np.nan)
    decile = np.full(n, -1, dtype=np.int64)
    if run.scoring_run_id is None:
        return mu, decile
    where = {pid: i for i, pid in enumerate(ids)}
    rows = PairScore.objects.filter(run_id=run.scoring_run_id).values_list(
        "pair_id", "mu", "label_scored", "decile"
    )
    for pair_id, value, label_scored, dec in rows.iterator(chunk_size=10000):
        i = where.get(pair_id)
        if i is None:
            continue
        # the label may have changed since scoring (votes, review): mu follows the label now
        same = label_scored == labels[i]
        mu[i] = value if same else -value
        decile[i] = dec if same else 9 - dec
    return mu, decile


def _flagged(run: TrainingRun, ids: list[int], kinds: list[str]) -> Any:
    """(N,) True for pairs with a flag of `kinds`: from the run's scoring run, or from checks
    and people (flags without a scoring run)."""
    flags = Flag.objects.filter(project_id=run.project_id, kind__in=kinds)
    if run.scoring_run_id is not None:
        from django.db.models import Q

        flags = flags.filter(Q(scoring_run_id=run.scoring_run_id) | Q(scoring_run__isnull=True))
    else:
        flags = flags.filter(scoring_run__isnull=True)
    flagged_ids = set(flags.values_list("pair_id", flat=True))
    return np.array([pid in flagged_ids for pid in ids], dtype=bool)


def training_run_execute(
    *, run: TrainingRun, progress: Progress, cancelled: Callable[[], bool]
) -> TrainingRun:
    """Train, evaluate on the held-out split, register the model. Raises JobCancelled."""
    from workers import rm
    from workers.rm.evaluate import evaluate
    from workers.rm.recipes import apply_recipe

    options = TrainingOptions(**run.config.get("options", {}))
    recipe, train_config = options.recipe(), options.train_config()
    pairs = labelled_pairs(project=run.project)
    ids = np.asarray(pairs.ids, dtype=np.int64)
    held_ids = list(
        HeldOutPair.objects.filter(project=run.project).values_list("pair_id", flat=True)
    )
    is_held = np.isin(ids, np.asarray(held_ids, dtype=np.int64))
    train_rows, held_rows = np.flatnonzero(~is_held), np.flatnonzero(is_held)
    if len(train_rows) < 2 or len(held_rows) < 1:
        raise TrainingError(
            f"{len(train_rows)} training and {len(held_rows)} held-out pairs have an A/B label"
        )
    mu, decile = _strength(run, pairs.ids, pairs.labels)
    flagged = _flagged(run, pairs.ids, options.drop_flag_kinds) if recipe.drop_flagged else None
    targets = apply_recipe(
        recipe=recipe,
        n_pairs=len(train_rows),
        mu=mu[train_rows] if run.scoring_run_id is not None else None,
        flagged=flagged[train_rows] if flagged is not None else None,
    )
    kept = train_rows[targets.keep]
    if len(kept) < 2:
        raise TrainingError(f"the recipe {recipe.name()!r} leaves {len(kept)} training pairs")
    flip = targets.flipped[targets.keep]
    margin, smoothing = targets.margin[targets.keep], targets.smoothing[targets.keep]
    gold_ids = set(GoldAnswer.objects.filter(project=run.project).values_list("pair_id", flat=True))
    counts = targets.counts() | {
        "heldout": len(held_rows),
        "gold_heldout": sum(int(pairs.ids[i]) in gold_ids for i in held_rows),
    }
    on_epoch = _epoch_recorder(run)

    def step(done: int, total: int, message: str = "") -> None:
        progress(done, total, message)

    try:
        if train_config.kind == "head":
            encoder_config = rm.EncoderConfig(
                model=train_config.model, max_length=options.max_length
            )
            encoder = rm.Encoder(encoder_config)
            x_c, x_r = rm.embed_pairs(
                prompts=pairs.prompts,
                chosen=pairs.chosen,
                rejected=pairs.rejected,
                encoder=encoder,
                cache=rm.EmbeddingCache(Path(settings.EMBEDDING_CACHE_DIR)),
                features="context+response",
                progress=step,
                cancel=cancelled,
            )
            tc, tr = x_c[kept], x_r[kept]
            from workers.rm.training import train_head

            result = train_head(
                x_chosen=np.where(flip[:, None], tr, tc),
                x_rejected=np.where(flip[:, None], tc, tr),
                margin=margin,
                smoothing=smoothing,
                heldout_chosen=x_c[held_rows],
                heldout_rejected=x_r[held_rows],
                config=train_config,
                on_epoch=on_epoch,
                progress=step,
                cancel=cancelled,
            )
            manifest_extra = {
                "encoder": encoder_config.to_dict(),
                "encoder_fingerprint": encoder.fingerprint,
                "features": "context+response",
                "hidden": train_config.hidden,
            }
        else:
            from workers.rm.training import finetune_reward_model

            texts_c = rm.rm_texts(prompts=pairs.prompts, responses=pairs.chosen)
            texts_r = rm.rm_texts(prompts=pairs.prompts, responses=pairs.rejected)
            tc = [texts_c[i] for i in kept]
            tr = [texts_r[i] for i in kept]
            result = finetune_reward_model(
                chosen_texts=[r if f else c for c, r, f in zip(tc, tr, flip, strict=True)],
                rejected_texts=[c if f else r for c, r, f in zip(tc, tr, flip, strict=True)],
                margin=margin,
                smoothing=smoothing,
                heldout_chosen=[texts_c[i] for i in held_rows],
                heldout_rejected=[texts_r[i] for i in held_rows],
                config=train_config,
                on_epoch=on_epoch,
                progress=step,
                cancel=cancelled,
            )
            manifest_extra = {"base_model": train_config.model}
    except rm.Cancelled as exc:
        raise JobCancelled(str(exc)) from exc
    gold = np.array([int(pairs.ids[i]) in gold_ids for i in held_rows], dtype=bool)
    metrics = evaluate(margins=result.heldout_margins, decile=decile[held_rows], gold=gold)
    config = {
        "options": asdict(options),
        "recipe": recipe.to_dict(),
        "train": train_config.to_dict(),
        "holdout": {"share": HOLDOUT_SHARE, "seed": HOLDOUT_SEED},
    }
    manifest = {
        "kind": train_config.kind,
        "project": run.project_id,
        "training_run": run.pk,
        "recipe": recipe.to_dict(),
        "train": train_config.to_dict(),
        "heldout_accuracy": metrics["accuracy"],
        "max_length": options.max_length,
        **manifest_extra,
    }
    progress(1, 1, "saving the model")
    run_register(run, result, manifest=manifest, metrics=metrics, counts=counts, config=config)
    return run


def _epoch_recorder(run: TrainingRun) -> Callable[[int, dict[str, float]], None]:
    curves: dict[str, list[float]] = {}

    def record(epoch: int, point: dict[str, float]) -> None:
        for key, value in point.items():
            curves.setdefault(key, []).append(float(value))
        TrainingRun.objects.filter(pk=run.pk).update(curves=curves)
        publish(
            training_group(run.pk),
            TrainingEpoch(
                run_id=run.pk,
                epoch=epoch,
                train_loss=point["train_loss"],
                train_accuracy=point["train_accuracy"],
                heldout_loss=point["heldout_loss"],
                heldout_accuracy=point["heldout_accuracy"],
            ),
        )

    return record


def run_register(
    run: TrainingRun,
    result: Any,
    *,
    manifest: dict[str, Any],
    metrics: dict[str, Any],
    counts: dict[str, Any],
    config: dict[str, Any],
) -> RegisteredModel:
    """Save the model (a pair or a step model), then register it and complete the run in one
    transaction."""
    from workers.rm.saved import save_model

    work = work_folder(project_id=run.project_id, run_id=run.pk)
    try:
        save_model(folder=work, result=result, manifest=manifest)
        with transaction.atomic():
            # one registration per project at a time: versions never clash
            project = Project.objects.select_for_update().get(pk=run.project_id)
            locked = TrainingRun.objects.select_for_update().get(pk=run.pk)
            if locked.complete:  # a retried task found the work done
                return RegisteredModel.objects.get(run=run)
            registered = model_registered(project=project, run_id=run.pk, kind=run.kind, work=work)
            with registered as model:
                run.metrics, run.counts, run.config = metrics, counts, config
                run.curves = {k: [float(x) for x in v] for k, v in result.curves.items()}
                run.versions = versions(*LIBRARIES)
                run.complete, run.finished_at = True, timezone.now()
                run.save()
        return model
    finally:
        shutil.rmtree(work, ignore_errors=True)  # gone already once renamed into place
