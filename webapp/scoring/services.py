"""Scoring runs: gather a project's labelled pairs, run the ensemble, store scores and flags.

The model work happens in workers/rm (no Django). This module only moves data: pairs out of
PostgreSQL in one streaming query, margins back in with COPY, in one transaction that also
marks the run complete, so a killed worker never leaves a run that looks finished.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from webapp.flags.models import Flag
from webapp.jobs.runs import run_create, versions
from webapp.jobs.services import JobCancelled
from webapp.projects.models import Project
from webapp.scoring.models import ScoringRun
from webapp.scoring.selectors import LabelledPairs, labelled_pairs
from webapp.scoring.steps import step_scoring_execute

FLAGS = Flag._meta.db_table

log = logging.getLogger("preflab.scoring")
Progress = Callable[..., None]


@dataclass
class ScoringOptions:
    mode: str = "oof"  # oof | insample | finetune
    n_models: int = 8  # M: ensemble members trained here
    n_folds: int = 5  # K: out-of-fold splits (oof mode)
    encoder: str = ""  # Hugging Face path or name; "" = the bundled MiniLM
    max_length: int = 256  # tokens per text, cut from the left
    seed: int = 0
    epochs: int = 4
    # Existing reward models (sequence classification, one output) that vote as they are.
    reward_models: list[str] = field(default_factory=list)
    # Per-pair score columns from the import file (keys of Pair.metadata) holding a margin
    # r(a) - r(b) computed elsewhere.
    score_columns: list[str] = field(default_factory=list)


def scoring_run_create(
    *, project: Project, options: ScoringOptions, created_by: Any = None
) -> ScoringRun:
    """A queued run and its job; the job is sent to the `gpu` queue in fine-tune mode."""
    return run_create(
        ScoringRun,
        job_kind="score",
        project=project,
        params=asdict(options),
        config={"options": asdict(options)},
        created_by=created_by,
        queue="gpu" if options.mode == ScoringRun.Mode.FINETUNE else "default",
        mode=options.mode,
    )


def scoring_run_execute(
    *, run: ScoringRun, progress: Progress, cancelled: Callable[[], bool]
) -> ScoringRun:
    """Score the run's project. ``progress(done, total, message)``; raises JobCancelled."""
    from workers import rm

    if run.project.label_scheme == Project.LabelScheme.STEPS:
        return step_scoring_execute(run=run, progress=progress, cancelled=cancelled)
    options = ScoringOptions(**run.config.get("options", {}))
    pairs = labelled_pairs(project=run.project)
    if len(pairs.ids) < max(2 * options.n_folds, 4):
        raise ValueError(
            f"only {len(pairs.ids)} pairs have an A/B label; scoring needs at least "
            f"{max(2 * options.n_folds, 4)}"
        )
    progress(0, 1, f"scoring {len(pairs.ids)} pairs")
    members: list[tuple[str, np.ndarray]] = []
    config: dict[str, Any] = {"options": asdict(options)}
    try:
        result = _trained_members(pairs, options, progress, cancelled, config)
    except rm.Cancelled as exc:
        raise JobCancelled(str(exc)) from exc
    members.append(("heads", result.margins))
    members.extend(_outside_members(pairs, options))
    combined = rm.combine_members(members) if len(members) > 1 else result
    flags = rm.compute_flags(
        margins=combined.margins,
        human_agreement=np.asarray(pairs.agreement, dtype=np.float64),
        same_text=np.array([c == r for c, r in zip(pairs.chosen, pairs.rejected, strict=True)]),
        duplicate_group=_group_ids(pairs.group_keys),
        chosen_id=_group_ids(pairs.chosen_keys),
    )
    deciles = rm.strength_deciles(combined.mu)
    bins = rm.binned_sigma(combined.mu, combined.sigma, groups=20)
    counts = {kind: int(values.sum()) for kind, values in flags.as_dict().items()}
    summary = {
        "n_pairs": len(pairs.ids),
        "n_members": len(combined.member_names),
        "frac_mu_negative": float((combined.mu < 0).mean()),
        "mu_mean": float(combined.mu.mean()),
        "mean_model_correlation": float(combined.mean_model_correlation),
        "flag_counts": counts,
        "thresholds": flags.thresholds,
        "sigma_bins": {k: np.asarray(v).tolist() for k, v in asdict(bins).items()},
    }
    progress(1, 1, "storing scores")
    _store(run, pairs, combined, flags, deciles, summary, config, result.seeds)
    return run


def _trained_members(
    pairs: LabelledPairs,
    options: ScoringOptions,
    progress: Progress,
    cancelled: Callable[[], bool],
    config: dict[str, Any],
) -> Any:
    from workers import rm

    def step(done: int, total: int, message: str = "") -> None:
        progress(done, total, message)

    if options.mode == ScoringRun.Mode.FINETUNE:
        ft = rm.FinetuneConfig(
            n_models=options.n_models,
            n_folds=options.n_folds,
            seed=options.seed,
            epochs=options.epochs,
        )
        if options.encoder:
            ft = dataclasses.replace(ft, model=options.encoder)
        config["finetune"] = ft.to_dict()
        return rm.finetune_ensemble(
            prompts=pairs.prompts,
            chosen=pairs.chosen,
            rejected=pairs.rejected,
            config=ft,
            progress=step,
            cancel=cancelled,
        )
    enc_kwargs: dict[str, Any] = {"max_length": options.max_length}
    if options.encoder:
        enc_kwargs["model"] = options.encoder
    enc_config = rm.EncoderConfig(**enc_kwargs)
    ens_config = rm.EnsembleConfig(
        n_models=options.n_models,
        n_folds=options.n_folds,
        mode=options.mode,  # type: ignore[arg-type]
        seed=options.seed,
        epochs=options.epochs,
    )
    config["encoder"] = enc_config.to_dict()
    config["ensemble"] = ens_config.to_dict()
    return rm.score_pairs(
        prompts=pairs.prompts,
        chosen=pairs.chosen,
        rejected=pairs.rejected,
        encoder=rm.Encoder(enc_config),
        config=ens_config,
        cache=rm.EmbeddingCache(Path(settings.EMBEDDING_CACHE_DIR)),
        progress=step,
        cancel=cancelled,
    )


def _outside_members(pairs: LabelledPairs, options: ScoringOptions) -> list[tuple[str, np.ndarray]]:
    from workers import rm

    members: list[tuple[str, np.ndarray]] = []
    from workers.rm.saved import is_head_model, score_head_model

    for path in options.reward_models:
        if is_head_model(path):  # a reward head from the training registry
            margins = score_head_model(
                folder=path,
                prompts=pairs.prompts,
                chosen=pairs.chosen,
                rejected=pairs.rejected,
                cache=rm.EmbeddingCache(Path(settings.EMBEDDING_CACHE_DIR)),
            )
            members.append((f"rm:{path}", np.asarray(margins)))
            continue
        margins = rm.score_with_sequence_classifier(
            model_path=path, prompts=pairs.prompts, chosen=pairs.chosen, rejected=pairs.rejected
        )
        members.append((f"rm:{path}", np.asarray(margins)))
    for column in options.score_columns:
        values = []
        for label, meta in zip(pairs.labels, pairs.metadata, strict=True):
            raw = meta.get(column)
            if not isinstance(raw, int | float):
                raise ValueError(f"score column {column!r} is missing or not a number on a pair")
            # the column holds r(a) - r(b); orient it like every other member, chosen first
            values.append(float(raw) if label == "a" else -float(raw))
        members.append((f"column:{column}", np.asarray(values)))
    return members


def _group_ids(keys: list[bytes]) -> np.ndarray:
    index: dict[bytes, int] = {}
    return np.array([index.setdefault(k, len(index)) for k in keys], dtype=np.int64)


def _store(
    run: ScoringRun,
    pairs: LabelledPairs,
    result: Any,
    flags: Any,
    deciles: np.ndarray,
    summary: dict[str, Any],
    config: dict[str, Any],
    seeds: list[int],
) -> None:
    now = timezone.now()
    flag_rows: list[tuple[str, int]] = []
    for kind, values in flags.as_dict().items():
        flag_rows.extend((kind, int(row)) for row in np.flatnonzero(values))
    with transaction.atomic(), connection.cursor() as cursor:
        locked = ScoringRun.objects.select_for_update().get(pk=run.pk)
        if locked.complete:
            return  # a retried task found the work done
        raw = cursor.cursor
        raw.execute("DELETE FROM scoring_pairscore WHERE run_id = %s", [run.pk])
        raw.execute(f"DELETE FROM {FLAGS} WHERE scoring_run_id = %s", [run.pk])
        copy_sql = (
            "COPY scoring_pairscore (run_id, pair_id, label_scored, label_source, mu, sigma, "
            "p_label, margins, decile) FROM STDIN"
        )
        with raw.copy(copy_sql) as copy:
            for i, pair_id in enumerate(pairs.ids):
                copy.write_row(
                    (
                        run.pk,
                        pair_id,
                        pairs.labels[i],
                        pairs.sources[i],
                        float(result.mu[i]),
                        float(result.sigma[i]),
                        float(result.p_label[i]),
                        [float(x) for x in result.margins[i]],
                        int(deciles[i]),
                    )
                )
        copy_sql = (
            f"COPY {FLAGS} (project_id, pair_id, kind, severity, source, scoring_run_id, "
            "details, created_at) FROM STDIN"
        )
        with raw.copy(copy_sql) as copy:
            for kind, i in flag_rows:
                details = f'{{"mu": {float(result.mu[i])}, "sigma": {float(result.sigma[i])}}}'
                copy.write_row(
                    (
                        run.project_id,
                        pairs.ids[i],
                        kind,
                        Flag.SEVERITY.get(Flag.Kind(kind), 1),
                        "scoring",
                        run.pk,
                        details,
                        now,
                    )
                )
        run.summary = summary
        run.config = config
        run.seeds = [int(s) for s in seeds]
        run.versions = versions("torch", "transformers", "numpy", "scikit-learn")
        run.member_names = list(result.member_names)
        run.n_pairs = len(pairs.ids)
        run.complete = True
        run.finished_at = now
        run.save()
