"""The steps case of a scoring run: the step model (workers/rm/steps.py) scores every step of a
steps project's solutions out of fold, trained on the effective step labels
(webapp/labelling/step_labels.py), and its run raises the step flags (workers/rm/step_flags.py)
on the items, in the flags table.

Stored in one transaction that also completes the run, as pair scoring does: StepScore rows
(P(correct) per step, predicted first error, the human one) and the flags.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.flags.models import Flag
from webapp.jobs.runs import versions
from webapp.jobs.services import JobCancelled
from webapp.labelling.step_agreement import aggregate_steps, annotator_disagreement, step_tables
from webapp.labelling.step_labels import (
    step_answers,
    step_items,
    step_labels,
    trainable_targets,
)
from webapp.scoring.models import ScoringRun, StepScore

Progress = Callable[..., None]


def step_scoring_execute(
    *, run: ScoringRun, progress: Progress, cancelled: Callable[[], bool]
) -> ScoringRun:
    """Score a steps project's solutions. Raises ValueError when too few are labelled."""
    from workers import rm
    from workers.rm.config import StepConfig
    from workers.rm.step_eval import (
        all_correct_baseline,
        first_errors,
        processbench_scores,
        random_step_baseline,
        solution_scores,
    )
    from workers.rm.step_flags import (
        StepFlagConfig,
        final_answer_contradiction,
        first_error_far,
        outlying_annotators,
    )
    from workers.rm.steps import embed_steps, train_steps

    options = run.config.get("options", {})
    if options.get("mode", "oof") != "oof":
        raise ValueError(
            "a steps project is scored out of fold by step heads on the frozen encoder; "
            f"mode {options.get('mode')!r} (fine-tuned step models) is not built for steps"
        )
    items = step_items(project=run.project)
    labels = step_labels(project=run.project, n_steps={i.item_id: len(i.steps) for i in items})
    config = StepConfig(n_folds=int(options.get("n_folds", 5)), seed=int(options.get("seed", 0)))
    labelled = [i for i in items if i.item_id in labels]
    if len(labelled) < 2 * config.n_folds:
        raise ValueError(
            f"only {len(labelled)} solutions have step labels; the step model needs at least "
            f"{2 * config.n_folds}"
        )
    targets = trainable_targets(items=items, labels=labels)
    progress(0, 1, f"embedding the steps of {len(items)} solutions")
    encoder = rm.Encoder(rm.EncoderConfig(max_length=int(options.get("max_length", 256))))
    try:
        x, layout = embed_steps(
            problems=[i.problem for i in items],
            solutions=[i.steps for i in items],
            encoder=encoder,
            cache=rm.EmbeddingCache(Path(settings.EMBEDDING_CACHE_DIR)),
            features=config.features,
            layers=config.encoder_layers,
            progress=progress,
            cancel=cancelled,
        )
        result = train_steps(
            x=x, targets=targets, layout=layout, config=config, progress=progress, cancel=cancelled
        )
    except rm.Cancelled as exc:
        raise JobCancelled(str(exc)) from exc
    per_step = layout.split(result.p_correct)
    predicted = first_errors(per_step, threshold=config.threshold)
    human = [labels[i.item_id].first_error if i.item_id in labels else None for i in items]
    flag_config = StepFlagConfig()
    flags: list[tuple[int, str, dict[str, Any]]] = []
    for row, item in enumerate(items):
        h, m, n = human[row], int(predicted[row]), len(item.steps)
        if h is not None and first_error_far(
            human=h, model=m, n_steps=n, far_steps=flag_config.far_steps
        ):
            flags.append((item.item_id, Flag.Kind.FIRST_ERROR_FAR, {"human": h, "model": m}))
        way = final_answer_contradiction(
            first_error=h, final_answer_correct=item.final_answer_correct
        )
        if way is not None:
            flags.append((item.item_id, Flag.Kind.ANSWER_CONTRADICTION, {"way": way, "human": h}))
    flags += _annotator_flags(run, flag_config, outlying_annotators)
    known = [(int(p), h) for p, h in zip(predicted, human, strict=True) if h is not None]
    n_steps = np.diff(layout.offsets)
    keep = [k for k, h in enumerate(human) if h is not None]
    kept = [h for h in human if h is not None]
    summary = {
        "n_items": len(items),
        "n_labelled": len(labelled),
        "processbench": processbench_scores([p for p, _ in known], [h for _, h in known]),
        "all_correct": processbench_scores(all_correct_baseline(n_steps[keep]), kept),
        "random_step": processbench_scores(
            random_step_baseline(n_steps[keep], seed=config.seed), kept
        ),
        "flag_counts": {
            kind: sum(1 for _, k, _ in flags if k == kind) for kind in {k for _, k, _ in flags}
        },
    }
    scores = {how: solution_scores(per_step, how) for how in ("min", "product", "last")}
    _store(run, items, labels, per_step, predicted, scores, flags, summary, config.to_dict())
    return run


def _annotator_flags(
    run: ScoringRun, config: Any, outlying: Callable[..., dict[int, dict[str, float]]]
) -> list[tuple[int, str, dict[str, Any]]]:
    """Each item where an outlying annotator's labels differ from the aggregate's."""
    answers = step_answers(project=run.project)
    labels, _ = step_tables(answers)
    if labels.empty or labels["worker"].nunique() < 3:
        return []
    table = aggregate_steps(labels, method="dawid_skene")
    disagreement = annotator_disagreement(labels, table)
    found = outlying(
        {int(w): (int(r["n"]), float(r["disagree_share"])) for w, r in disagreement.iterrows()},
        config=config,
    )
    if not found:
        return []
    both = labels.merge(table, on=["task", "step"], suffixes=("", "_agg"))
    differs = both[(both["label"] != both["label_agg"]) & both["worker"].isin(list(found))]
    return [
        (int(task), Flag.Kind.OUTLYING_ANNOTATOR, {"annotator": int(worker), **found[int(worker)]})
        for task, worker in sorted(set(zip(differs["task"], differs["worker"], strict=True)))
    ]


def _store(
    run: ScoringRun,
    items: list[Any],
    labels: dict[int, Any],
    per_step: list[np.ndarray],
    predicted: np.ndarray,
    scores: dict[str, np.ndarray],
    flags: list[tuple[int, str, dict[str, Any]]],
    summary: dict[str, Any],
    step_config: dict[str, Any],
) -> None:
    now = timezone.now()
    with transaction.atomic():
        locked = ScoringRun.objects.select_for_update().get(pk=run.pk)
        if locked.complete:
            return  # a retried task found the work done
        StepScore.objects.filter(run=run).delete()
        Flag.objects.filter(scoring_run=run).delete()
        StepScore.objects.bulk_create(
            [
                StepScore(
                    run=run,
                    item_id=item.item_id,
                    p_correct=[round(float(p), 6) for p in per_step[row]],
                    predicted_first_error=int(predicted[row]),
                    human_first_error=labels[item.item_id].first_error
                    if item.item_id in labels
                    else None,
                    label_source=labels[item.item_id].source if item.item_id in labels else "",
                    score_min=float(scores["min"][row]),
                    score_product=float(scores["product"][row]),
                    score_last=float(scores["last"][row]),
                )
                for row, item in enumerate(items)
            ],
            batch_size=2000,
        )
        Flag.objects.bulk_create(
            [
                Flag(
                    project_id=run.project_id,
                    item_id=item_id,
                    kind=kind,
                    severity=Flag.SEVERITY.get(Flag.Kind(kind), 1),
                    source="step_scoring",
                    scoring_run=run,
                    details=details,
                )
                for item_id, kind, details in flags
            ],
            batch_size=2000,
        )
        run.summary = summary
        run.config = {**run.config, "steps": step_config}
        run.versions = versions("torch", "transformers", "numpy")
        run.member_names = [f"step-head-{m}" for m in range(int(step_config["n_models"]))]
        run.n_pairs = len(items)
        run.complete = True
        run.finished_at = now
        run.save()
