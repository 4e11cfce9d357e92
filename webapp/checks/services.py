"""Consistency checks of a project: gather its pairs, labels and latest ensemble scores, run
the checks of workers/rm/checks, and replace the project's checks flags in one transaction.

What each check reads:
- contrast pairs (C_res, C_ins): prompt embeddings in a similarity band, and rewards of the
  latest complete scoring run's ensemble, refit in-sample from its stored settings on the
  cached embeddings (scoring runs keep margins, not reward functions; see
  workers/rm/checks/contrast.py). Runs that fine-tuned full models are refit as heads on the
  default encoder.
- label cycles: the effective labels (human labels where there are votes, else imported).
- ensemble cycles: the scoring run's stored per-pair mu. Rewards of one refit model could not
  form a cycle (they are one number per response); the stored out-of-fold margins come from
  different models per pair and can.
- length bias, near-identical texts, duplicates with conflicting labels: the pairs themselves.
Position bias and self-agreement come from the votes and are read live (selectors).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.checks.models import CheckRun, ChecksSettings
from webapp.flags.models import Flag
from webapp.jobs.runs import run_create
from webapp.jobs.services import JobCancelled
from webapp.labelling.repeats import repeat_settings_save
from webapp.pairs.labels import effective_labels
from webapp.pairs.selectors import PairTexts, pair_texts
from webapp.projects.models import Project
from webapp.scoring.models import PairScore, ScoringRun
from webapp.scoring.selectors import latest_complete_run

log = logging.getLogger("preflab.checks")
Progress = Callable[..., None]
SOURCE = "checks"
# Examples of each finding kept in the run's summary for the page.
EXAMPLES = 20


@dataclass
class CheckOptions:
    band_low: float = 0.75  # contrast pairs: cosine similarity of prompt embeddings, from
    band_high: float = 0.9  # ... to (both included)
    neighbours: int = 16  # nearest neighbours looked at per prompt
    # Contrast pairs whose cross combinations are embedded and scored, at most (a sample,
    # seeded, when more are found): each costs four new texts for the encoder.
    max_contrast_pairs: int = 1000
    near_identical: float = 0.95  # word-level similarity of chosen and rejected
    seed: int = 0


def check_options_for(*, project: Project) -> CheckOptions:
    row = ChecksSettings.objects.filter(project=project).first()
    if row is None:
        return CheckOptions()
    return CheckOptions(band_low=row.band_low, band_high=row.band_high, neighbours=row.neighbours)


def checks_settings_save(*, project: Project, values: dict[str, Any]) -> ChecksSettings:
    """Store the settings of the checks page: the project's self-consistency repeats (the
    labelling queue's) and the contrast band; raises ValueError naming the bad field."""
    share = _number(values, "repeat_share", 0.0, float)
    gap = int(_number(values, "repeat_gap", 20, int))
    low = _number(values, "band_low", 0.75, float)
    high = _number(values, "band_high", 0.9, float)
    neighbours = int(_number(values, "neighbours", 16, int))
    if not -1.0 <= low <= high <= 1.0:
        raise ValueError("band_low, band_high: need -1 <= low <= high <= 1")
    if not 1 <= neighbours <= 256:
        raise ValueError("neighbours: must be between 1 and 256")
    with transaction.atomic():
        repeat_settings_save(project=project, share=share, gap=gap)
        row, _ = ChecksSettings.objects.update_or_create(
            project=project,
            defaults={"band_low": low, "band_high": high, "neighbours": neighbours},
        )
    return row


def _number(values: dict[str, Any], name: str, default: float, kind: type) -> float:
    raw = values.get(name, default)
    try:
        return float(kind(raw))
    except (TypeError, ValueError):
        raise ValueError(f"{name}: not a number: {raw!r}") from None


def check_run_create(
    *, project: Project, options: CheckOptions | None = None, created_by: Any = None
) -> CheckRun:
    """A queued run of the checks and its job (sent to a worker after commit)."""
    options = options if options is not None else check_options_for(project=project)
    return run_create(
        CheckRun,
        job_kind="checks",
        project=project,
        params=asdict(options),
        config={"options": asdict(options)},
        created_by=created_by,
    )


@dataclass
class _Pairs(PairTexts):
    """The project's pairs and texts with each pair's effective label, in the same order."""

    labels: list[str] = field(default_factory=list)  # effective: a | b | tie | ""
    sources: list[str] = field(default_factory=list)


def _load_pairs(project: Project) -> _Pairs:
    labels = effective_labels(project=project)
    texts = pair_texts(project=project)
    out = _Pairs(**vars(texts))
    for pair_id in texts.ids:
        eff = labels.get(pair_id)
        out.labels.append(eff.label if eff else "")
        out.sources.append(eff.source if eff else "none")
    return out


@dataclass
class _Found:
    """Flags to write, as (pair index, kind, details), and the summary for the page."""

    flags: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def check_run_execute(
    *, run: CheckRun, progress: Progress, cancelled: Callable[[], bool] | None = None
) -> CheckRun:
    """Run every check on the run's project and store flags and summary. Raises JobCancelled."""
    from workers import rm

    options = CheckOptions(**{
        k: v for k, v in run.config.get("options", {}).items()
        if k in {f.name for f in fields(CheckOptions)}
    })  # fmt: skip
    project = run.project
    pairs = _load_pairs(project)
    scoring = latest_complete_run(project=project)
    mu = _oriented_mu(scoring, pairs)
    found = _Found()
    found.summary["n_pairs"] = len(pairs.ids)
    found.summary["scoring_run"] = scoring.pk if scoring else None
    progress(0, 5, "label and ensemble cycles")
    _cycles(pairs, mu, found)
    progress(1, 5, "length bias, near-identical texts, duplicates")
    _length(pairs, mu, found)
    _near_identical(pairs, options, found)
    _duplicates(pairs, scoring, found)
    if cancelled is not None and cancelled():
        raise JobCancelled(f"check run {run.pk} was cancelled")
    progress(2, 5, "contrast pairs")
    try:
        _contrast(pairs, scoring, options, found, progress, cancelled)
    except rm.Cancelled as exc:
        raise JobCancelled(str(exc)) from exc
    progress(5, 5, "storing flags")
    _store(run, scoring, pairs, found)
    return run


def _oriented_mu(scoring: ScoringRun | None, pairs: _Pairs) -> np.ndarray:
    """(N,) the scoring run's mu = r(a) - r(b) per pair (NaN where it has no score)."""
    out = np.full(len(pairs.ids), np.nan)
    if scoring is None:
        return out
    index = {pair_id: i for i, pair_id in enumerate(pairs.ids)}
    rows = PairScore.objects.filter(run=scoring).values_list("pair_id", "label_scored", "mu")
    for pair_id, label, value in rows.iterator(chunk_size=10_000):
        i = index.get(pair_id)
        if i is not None:
            out[i] = value if label == "a" else -value
    return out


def _cycles(pairs: _Pairs, mu: np.ndarray, found: _Found) -> None:
    from workers.rm.checks import preference_cycles

    labels = np.array(pairs.labels, dtype=object)
    a_ids, b_ids = np.array(pairs.a_ids), np.array(pairs.b_ids)
    prompt_ids = np.array(pairs.prompt_ids)
    responses_per_prompt: dict[int, set[int]] = {}
    for p, a, b in zip(pairs.prompt_ids, pairs.a_ids, pairs.b_ids, strict=True):
        responses_per_prompt.setdefault(p, set()).update((a, b))
    found.summary["prompts_with_3plus_responses"] = sum(
        1 for r in responses_per_prompt.values() if len(r) >= 3
    )
    scored = ~np.isnan(mu)
    for name, a_wins, decided, kind in (
        ("labels", labels == "a", (labels == "a") | (labels == "b"), Flag.Kind.LABEL_CYCLE),
        ("ensemble", scored & (mu > 0), scored & (mu != 0), Flag.Kind.ENSEMBLE_CYCLE),
    ):
        rows = np.flatnonzero(decided)
        winner = np.where(a_wins[rows], a_ids[rows], b_ids[rows])
        loser = np.where(a_wins[rows], b_ids[rows], a_ids[rows])
        cycles = preference_cycles(prompt=prompt_ids[rows], winner=winner, loser=loser)
        on = rows[cycles.on_cycle]
        for i in on:
            found.flags.append((int(i), kind, {"check": f"{name}_cycle"}))
        found.summary[f"{name}_cycles"] = {
            "edges": len(rows),
            "pairs_on_cycles": len(on),
            "prompts_with_cycles": cycles.prompts_with_cycles,
            "triangles": [
                [pairs.ids[int(rows[e])] for e in t] for t in cycles.triangles[:EXAMPLES]
            ],
        }


def _length(pairs: _Pairs, mu: np.ndarray, found: _Found) -> None:
    from workers.rm.checks import length_bias

    labels = np.array(pairs.labels, dtype=object)
    rows = np.flatnonzero((labels == "a") | (labels == "b"))
    a_len = np.array([len(t) for t in pairs.a_text], dtype=np.float64)
    b_len = np.array([len(t) for t in pairs.b_text], dtype=np.float64)
    a_chosen = labels[rows] == "a"
    chosen_len = np.where(a_chosen, a_len[rows], b_len[rows])
    rejected_len = np.where(a_chosen, b_len[rows], a_len[rows])
    labelled = length_bias(chosen_len=chosen_len, rejected_len=rejected_len)
    scored = np.flatnonzero(~np.isnan(mu))
    ensemble = length_bias(chosen_len=a_len[scored], rejected_len=b_len[scored], margin=mu[scored])
    bins: dict[str, list[float]] = {"diff": [], "mu": [], "count": []}
    if len(scored) >= 10:
        diff = a_len[scored] - b_len[scored]
        order = np.argsort(diff, kind="stable")
        for group in np.array_split(order, min(10, len(order))):
            bins["diff"].append(float(np.mean(diff[group])))
            bins["mu"].append(float(np.mean(mu[scored][group])))
            bins["count"].append(len(group))
    found.summary["length"] = {
        "labelled_pairs": labelled.n_pairs,
        "share_chosen_longer": _finite(labelled.share_chosen_longer),
        "scored_pairs": len(scored),
        "margin_pearson": _finite(ensemble.margin_pearson),
        "margin_spearman": _finite(ensemble.margin_spearman),
        "bins": bins,
    }


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _near_identical(pairs: _Pairs, options: CheckOptions, found: _Found) -> None:
    from workers.rm.checks import near_identical

    close = near_identical(pairs.a_text, pairs.b_text, threshold=options.near_identical)
    for i in np.flatnonzero(close):
        found.flags.append((int(i), Flag.Kind.NEAR_IDENTICAL, {"check": "near_identical"}))
    found.summary["near_identical"] = int(close.sum())
    found.summary["identical"] = sum(
        a == b for a, b in zip(pairs.a_text, pairs.b_text, strict=True)
    )


def _duplicates(pairs: _Pairs, scoring: ScoringRun | None, found: _Found) -> None:
    """Duplicates with conflicting labels, by the scoring run's own rule (workers/rm/flags.py);
    pairs that run flagged already are not flagged a second time."""
    from workers.rm import compute_flags

    labels = np.array(pairs.labels, dtype=object)
    rows = np.flatnonzero((labels == "a") | (labels == "b"))
    groups: dict[tuple[int, ...], int] = {}
    keys = [(pairs.prompt_ids[i], *sorted((pairs.a_ids[i], pairs.b_ids[i]))) for i in rows.tolist()]
    group = np.array([groups.setdefault(k, len(groups)) for k in keys], dtype=np.int64)
    chosen = np.array(
        [pairs.a_ids[i] if labels[i] == "a" else pairs.b_ids[i] for i in rows], dtype=np.int64
    )
    conflict = np.zeros(len(rows), dtype=bool)
    if len(rows):
        conflict = compute_flags(
            margins=np.ones((len(rows), 1)), duplicate_group=group, chosen_id=chosen
        ).duplicate_conflict
    already: set[int] = set()
    if scoring is not None:
        already = set(
            Flag.objects.filter(scoring_run=scoring, kind=Flag.Kind.DUPLICATE_CONFLICT).values_list(
                "pair_id", flat=True
            )
        )
    new = [int(i) for i in rows[conflict] if pairs.ids[int(i)] not in already]
    for i in new:
        found.flags.append((i, Flag.Kind.DUPLICATE_CONFLICT, {"check": "duplicate_conflict"}))
    found.summary["duplicate_conflicts"] = {
        "pairs": int(conflict.sum()),
        "flagged_by_scoring": int(conflict.sum()) - len(new),
    }


def _contrast(
    pairs: _Pairs,
    scoring: ScoringRun | None,
    options: CheckOptions,
    found: _Found,
    progress: Progress,
    cancelled: Callable[[], bool] | None,
) -> None:
    from workers import rm
    from workers.rm.checks import ContrastConfig, contrast_check

    summary: dict[str, Any] = {"band": [options.band_low, options.band_high]}
    found.summary["contrast"] = summary
    if scoring is None:
        summary["skipped"] = "no complete scoring run: score the pairs first"
        return
    labels = np.array(pairs.labels, dtype=object)
    labelled = np.flatnonzero((labels == "a") | (labels == "b"))
    if len(labelled) < 4:
        summary["skipped"] = f"only {len(labelled)} pairs have an A/B label"
        return
    chosen = [pairs.a_text[i] if labels[i] == "a" else pairs.b_text[i] for i in labelled]
    rejected = [pairs.b_text[i] if labels[i] == "a" else pairs.a_text[i] for i in labelled]
    prompts = [pairs.prompts[i] for i in labelled]
    config = scoring.config
    enc_config = (
        rm.EncoderConfig(**config["encoder"]) if "encoder" in config else rm.EncoderConfig()
    )
    ens_config = (
        rm.EnsembleConfig(**config["ensemble"]) if "ensemble" in config else rm.EnsembleConfig()
    )
    summary["ensemble"] = {"members": ens_config.n_models, "features": ens_config.features,
                           "refit": "in-sample on all A/B-labelled pairs"}  # fmt: skip

    def step(stage: int, _stages: int, message: str) -> None:
        progress(2 + stage, 5, message)
        # only the embedding reports stop the job: the refit and the scoring are short
        if stage == 0 and cancelled is not None and cancelled():
            raise rm.Cancelled("cancelled")

    findings = contrast_check(
        prompt_keys=[pairs.prompt_ids[i] for i in labelled],
        prompts=prompts,
        chosen=chosen,
        rejected=rejected,
        pair_ids=[pairs.ids[i] for i in labelled],
        encoder=rm.Encoder(enc_config),
        cache=rm.EmbeddingCache(Path(settings.EMBEDDING_CACHE_DIR)),
        ensemble=ens_config,
        config=ContrastConfig(
            low=options.band_low, high=options.band_high, neighbours=options.neighbours,
            max_pairs=options.max_contrast_pairs, seed=options.seed,
        ),
        examples=EXAMPLES,
        progress=step,
    )  # fmt: skip
    summary.update(findings.summary())
    for row, details in findings.flagged:
        found.flags.append((int(labelled[row]), Flag.Kind.CONTRAST_INCONSISTENT, details))


def _store(run: CheckRun, scoring: ScoringRun | None, pairs: _Pairs, found: _Found) -> None:
    """Replace the project's checks flags and complete the run, in one transaction."""
    now = timezone.now()
    counts: dict[str, int] = {}
    seen: set[tuple[int, str]] = set()
    rows = []
    for i, kind, details in found.flags:
        if (i, kind) in seen:
            continue  # a pair is flagged once per kind (a contrast pair may name it twice)
        seen.add((i, kind))
        counts[kind] = counts.get(kind, 0) + 1
        rows.append(
            Flag(
                project_id=run.project_id,
                pair_id=pairs.ids[i],
                kind=kind,
                severity=Flag.SEVERITY.get(Flag.Kind(kind), 1),
                source=SOURCE,
                details=details,
                created_at=now,
            )
        )
    found.summary["flag_counts"] = counts
    with transaction.atomic():
        locked = CheckRun.objects.select_for_update().get(pk=run.pk)
        if locked.complete:
            return  # a retried task found the work done
        Flag.objects.filter(project_id=run.project_id, source=SOURCE).delete()
        Flag.objects.bulk_create(rows, batch_size=5000)
        run.summary = found.summary
        run.scoring_run = scoring
        run.complete = True
        run.finished_at = now
        run.save()
