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
from webapp.scoring.models import EncodeShard, ScoringRun
from webapp.scoring.selectors import LabelledPairs, labelled_pairs
from webapp.scoring.shards import shards_encode, worker_threads
from webapp.scoring.steps import step_scoring_execute
from webapp.scoring.store import stored_embeddings

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
    """A queued run and its job; the job is sent to the `gpu` queue in fine-tune mode. The job's
    worker coordinates the run: its encoding goes out in shards (webapp/scoring/shards.py)."""
    return run_create(
        ScoringRun,
        job_kind="score",
        project=project,
        params=asdict(options),
        config={"options": asdict(options)},
        created_by=created_by,
        queue=str(
            settings.SCORING_GPU_QUEUE
            if options.mode == ScoringRun.Mode.FINETUNE
            else settings.SCORING_CPU_QUEUE
        ),
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
        result = _trained_members(run, pairs, options, progress, cancelled, config)
        members.append(("heads", result.margins))
        members.extend(_outside_members(run, pairs, options, progress, cancelled))
    except rm.Cancelled as exc:
        raise JobCancelled(str(exc)) from exc
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
    run: ScoringRun,
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
    encoder = rm.Encoder(dataclasses.replace(enc_config, threads=worker_threads()))
    view = encoder.with_layers(ens_config.encoder_layers)
    texts = rm.pair_texts(
        prompts=pairs.prompts,
        chosen=pairs.chosen,
        rejected=pairs.rejected,
        features=ens_config.features,
    )
    # every worker encodes a share; what comes back below is read from the store
    config["encoding"] = shards_encode(
        run=run,
        kind=EncodeShard.Kind.ENCODE,
        source=view,
        model=dataclasses.replace(view.config, threads=0).to_dict(),
        texts=texts,
        queue=_encoder_queue(options.encoder),
        progress=progress,
        cancelled=cancelled,
    )
    return rm.score_pairs(
        prompts=pairs.prompts,
        chosen=pairs.chosen,
        rejected=pairs.rejected,
        encoder=encoder,
        config=ens_config,
        cache=stored_embeddings(),
        progress=step,
        cancel=cancelled,
    )


def _encoder_queue(encoder: str) -> str:
    """The bundled encoder and small ones on the CPU queue; big ones and fine-tuned reward
    models (a PrefLab model folder) on the GPU queue."""
    if not encoder:
        return str(settings.SCORING_CPU_QUEUE)
    folder = Path(encoder)
    if (folder / "preflab_model.json").is_file():
        return str(settings.SCORING_GPU_QUEUE)
    weights = sum(p.stat().st_size for p in folder.glob("*.safetensors")) if folder.is_dir() else 0
    weights += sum(p.stat().st_size for p in folder.glob("*.bin")) if folder.is_dir() else 0
    large = weights > settings.SCORING_CPU_ENCODER_MAX_MB * 1024 * 1024
    return str(settings.SCORING_GPU_QUEUE if large else settings.SCORING_CPU_QUEUE)


def _reward_model_margins(
    run: ScoringRun,
    path: str,
    pairs: LabelledPairs,
    progress: Progress,
    cancelled: Callable[[], bool],
) -> np.ndarray:
    """r(chosen) - r(rejected) of an existing reward model, its texts scored on shards of the
    GPU queue (any worker, the coordinator too, takes them) and kept in the store."""
    from workers.rm.members import RewardSource, reward_texts, uses_chat_template

    source = RewardSource(model_path=path, threads=worker_threads())
    source.templated = uses_chat_template(source.tokenizer, None)
    texts = reward_texts(
        tokenizer=source.tokenizer,
        templated=source.templated,
        prompts=list(pairs.prompts) * 2,
        responses=list(pairs.chosen) + list(pairs.rejected),
    )
    shards_encode(
        run=run,
        kind=EncodeShard.Kind.REWARD,
        source=source,
        model={
            "model_path": path,
            "max_length": source.max_length,
            "batch_size": source.batch_size,
            "templated": source.templated,
        },
        texts=texts,
        queue=str(settings.SCORING_GPU_QUEUE),
        progress=progress,
        cancelled=cancelled,
    )
    rewards = stored_embeddings().get_or_compute(texts, source)[:, 0]
    n = len(pairs.ids)
    return np.asarray(rewards[:n] - rewards[n:], dtype=np.float64)


def _outside_members(
    run: ScoringRun,
    pairs: LabelledPairs,
    options: ScoringOptions,
    progress: Progress,
    cancelled: Callable[[], bool],
) -> list[tuple[str, np.ndarray]]:

    members: list[tuple[str, np.ndarray]] = []
    from workers.rm.saved import is_head_model, score_head_model

    for path in options.reward_models:
        if is_head_model(path):  # a reward head from the training registry
            margins = score_head_model(
                folder=path,
                prompts=pairs.prompts,
                chosen=pairs.chosen,
                rejected=pairs.rejected,
                cache=stored_embeddings(),
            )
            members.append((f"rm:{path}", np.asarray(margins)))
            continue
        members.append((f"rm:{path}", _reward_model_margins(run, path, pairs, progress, cancelled)))
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
