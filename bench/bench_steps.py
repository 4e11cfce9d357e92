"""ProcessBench first-error evaluation of the step head, out of fold, beside two baselines.

ProcessBench GSM8K (400 solutions) and MATH (1000), from ../shared/data/steps: each solution's
expert label is the first wrong step, or -1 when every step is right. The step head
(workers.rm.steps, StepConfig defaults: 4 bootstrapped logistic heads on MiniLM layers 3 and 5,
the problem and the solution up to the step, with the step alone appended) is trained on the
labels of 4 folds of solutions and predicts P(correct) for every step of the fifth; the
predicted first error is the first step below the threshold.

Per set, over five seeds (each a new fold split, new bootstrap draws and a new random
baseline), mean and standard deviation:

- ``<set>.f1`` / ``error_accuracy`` / ``correct_accuracy``: the head at threshold 0.5;
- ``<set>.f1_tuned``: the threshold picked per fold to maximise F1 on the other folds'
  out-of-fold predictions (never on the fold it is applied to);
- ``<set>.f1_all_correct``: always answering "every step is right" (0 by construction: it
  finds no error);
- ``<set>.f1_random``: a first error drawn uniformly from -1 and the solution's steps;
- ``<set>.auc_<min|product|last>``: ROC AUC of each solution score for telling the solutions
  with no wrong step from the others.

Embeddings are cached under var/bench-embeddings, at max_length 256 (MiniLM's training
length; step texts are long and cut from the left, so the step being judged survives).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
from sklearn.metrics import roc_auc_score

from bench.real_pairs import CACHE, DATA
from webapp.imports.formats import ParsedSteps, open_records
from workers.rm import EmbeddingCache, Encoder, EncoderConfig
from workers.rm.config import StepConfig
from workers.rm.step_eval import (
    AGGREGATIONS,
    all_correct_baseline,
    best_threshold,
    first_errors,
    processbench_scores,
    random_step_baseline,
    solution_scores,
)
from workers.rm.steps import embed_steps, step_targets, train_steps

Figures = Callable[[str, float, str], None]

NEEDS_SHARED_DATA = True
SETS = {"gsm8k": "processbench-gsm8k.json", "math": "processbench-math.json"}
SEEDS = (0, 1, 2, 3, 4)


def _read(name: str) -> list[ParsedSteps]:
    with open_records(DATA / "steps" / name) as records:
        return [r for r in records if isinstance(r, ParsedSteps) and r.first_error is not None]


def _tuned(per_step: list[np.ndarray], labels: np.ndarray, fold: np.ndarray) -> np.ndarray:
    predicted = np.empty(len(labels), dtype=np.int64)
    for k in np.unique(fold):
        others, here = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        t = best_threshold([per_step[i] for i in others], labels[others])
        predicted[here] = first_errors([per_step[i] for i in here], threshold=t)
    return predicted


def run(figures: Figures) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    encoder, cache = Encoder(EncoderConfig(max_length=256)), EmbeddingCache(CACHE)
    base = StepConfig()
    for name, file in SETS.items():
        solutions = _read(file)
        labels = np.array([s.first_error for s in solutions], dtype=np.int64)
        x, layout = embed_steps(
            problems=[s.problem for s in solutions],
            solutions=[s.steps for s in solutions],
            encoder=encoder,
            cache=cache,
            features=base.features,
            layers=base.encoder_layers,
        )
        targets = np.concatenate(
            [step_targets(n_steps=len(s.steps), first_error=s.first_error) for s in solutions]
        )
        n_steps = np.diff(layout.offsets)
        no_error = labels == -1
        rows: dict[str, list[float]] = {}

        def keep(key: str, value: float, rows: dict[str, list[float]] = rows) -> None:
            rows.setdefault(key, []).append(float(value))

        for seed in SEEDS:
            config = StepConfig(seed=seed)
            result = train_steps(x=x, targets=targets, layout=layout, config=config)
            per_step = layout.split(result.p_correct)
            head = processbench_scores(first_errors(per_step, threshold=config.threshold), labels)
            for key in ("f1", "error_accuracy", "correct_accuracy"):
                keep(key, head[key])
            keep(
                "f1_tuned", processbench_scores(_tuned(per_step, labels, result.fold), labels)["f1"]
            )
            keep("f1_all_correct", processbench_scores(all_correct_baseline(n_steps), labels)["f1"])
            keep(
                "f1_random",
                processbench_scores(random_step_baseline(n_steps, seed=seed), labels)["f1"],
            )
            for how in AGGREGATIONS:
                keep(f"auc_{how}", roc_auc_score(no_error, solution_scores(per_step, how)))
        figures(f"{name}.solutions", len(solutions), "solutions")
        figures(f"{name}.share_all_correct", float(no_error.mean()), "")
        for key, values in rows.items():
            figures(f"{name}.{key}", float(np.mean(values)), "")
            figures(f"{name}.{key}_sd", float(np.std(values, ddof=1)), "")
