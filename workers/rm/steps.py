"""A process reward model on the frozen encoder: P(step correct) for every step of a solution.

Data flow:

    (problem, steps[]) solutions, each with per-step targets (1 right, 0 wrong, NaN unknown)
      -> step_texts: for step i, "User: <problem>\\nAssistant: <step 1> ... <step i>", the
         problem and the solution up to and including the step, cut from the left by the
         encoder so that the step itself always survives
      -> embed_steps: through the embedding cache; with the step alone appended
         (StepConfig.features)
      -> train_steps: M logistic heads, trained out of fold over solutions with a balanced
         binary cross-entropy; every step's P(correct) comes from heads that never saw its
         solution
      -> step_eval: solution scores (min, product, last), the predicted first error, and
         ProcessBench's first-error F1

Targets from a first-error label follow ProcessBench and PRM800K: the steps before the first
error are right, that step is wrong, and the steps after it are unknown (a solution that went
wrong once says nothing sure about what follows), so they are scored but never trained on.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workers.rm.cache import EmbeddingCache, EmbeddingSource
from workers.rm.config import StepConfig, StepFeatures
from workers.rm.device import resolve_device, torch_threads
from workers.rm.encoder import Encoder
from workers.rm.ensemble import assign_folds, head_seeds, training_weights
from workers.rm.heads import RewardHeads
from workers.rm.progress import CancelCheck, StepProgress, raise_if_cancelled
from workers.rm.text import Prompt, rm_text

STEP_SEPARATOR = "\n\n"
_MIN_STEPS = 300


@dataclass(frozen=True)
class StepLayout:
    """Where each solution's steps sit in the flat (S,) arrays: solution s owns rows
    offsets[s]:offsets[s + 1]."""

    offsets: np.ndarray  # (N + 1,) int64

    @classmethod
    def of(cls, lengths: Sequence[int]) -> StepLayout:
        if any(n < 1 for n in lengths):
            raise ValueError("every solution needs at least one step")
        return cls(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))

    @property
    def n_solutions(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_steps(self) -> int:
        return int(self.offsets[-1])

    @property
    def solution_of_step(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_solutions), np.diff(self.offsets))

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        return np.split(values, self.offsets[1:-1])


def step_texts(*, problem: Prompt, steps: Sequence[str]) -> list[str]:
    """One text per step: the problem and the solution up to and including that step."""
    return [
        rm_text(prompt=problem, response=STEP_SEPARATOR.join(steps[: i + 1]))
        for i in range(len(steps))
    ]


def step_targets(*, n_steps: int, first_error: int | None) -> np.ndarray:
    """(n_steps,) 1.0 right, 0.0 wrong, NaN unknown, from a first-error label (-1: none wrong,
    None: unlabelled)."""
    targets = np.full(n_steps, np.nan, dtype=np.float32)
    if first_error is None:
        return targets
    if first_error == -1:
        targets[:] = 1.0
        return targets
    if not 0 <= first_error < n_steps:
        raise ValueError(f"first error {first_error} is out of range for {n_steps} steps")
    targets[:first_error] = 1.0
    targets[first_error] = 0.0
    return targets


def targets_from_ratings(ratings: Sequence[int | None]) -> np.ndarray:
    """PRM800K-style ratings (+1, 0, -1, None) as targets: +1 right, -1 wrong, and the
    neutral 0 counted as right, as ProcessBench and PRM800K's own PRM do (a step that is
    unhelpful but not wrong does not make the solution wrong); steps after the first -1 are
    unknown."""
    targets = np.full(len(ratings), np.nan, dtype=np.float32)
    for i, rating in enumerate(ratings):
        if rating is None:
            continue
        targets[i] = 0.0 if rating == -1 else 1.0
        if rating == -1:
            break
    return targets


def embed_steps(
    *,
    problems: Sequence[Prompt],
    solutions: Sequence[Sequence[str]],
    encoder: EmbeddingSource,
    cache: EmbeddingCache | None = None,
    features: StepFeatures = "context+step",
    layers: Sequence[int] = (),
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> tuple[np.ndarray, StepLayout]:
    """(S, D) embeddings of every step's text (with features="context+step", (S, 2D): the step
    alone appended), and where each solution's steps are."""
    if len(problems) != len(solutions):
        raise ValueError(f"{len(problems)} problems but {len(solutions)} solutions")
    if features not in ("context", "context+step"):
        raise ValueError(f"unknown features {features!r}")
    if layers and isinstance(encoder, Encoder):
        encoder = encoder.with_layers(layers)
    layout = StepLayout.of([len(steps) for steps in solutions])
    texts = [
        text
        for problem, steps in zip(problems, solutions, strict=True)
        for text in step_texts(problem=problem, steps=steps)
    ]
    if features == "context+step":
        texts += [step.strip() for steps in solutions for step in steps]

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total, "embedding steps")

    if cache is None:
        vectors = encoder.encode(texts, progress=report, cancel=cancel)
    else:
        vectors = cache.get_or_compute(texts, encoder, progress=report, cancel=cancel)
    n = layout.n_steps
    if features == "context":
        return vectors, layout
    return np.hstack([vectors[:n], vectors[n:]]), layout


class StepHeads(nn.Module):
    """H logistic heads, logit_h(x) = w_h . x + b_h: the linear reward heads with a bias,
    which a probability needs and a margin does not."""

    def __init__(self, *, dim: int, seeds: Sequence[int]) -> None:
        super().__init__()
        self.linear = RewardHeads(dim=dim, hidden=0, seeds=seeds)
        self.bias = nn.Parameter(torch.zeros(len(seeds)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D) -> (B, H) logits of P(step correct)."""
        return self.linear(x) + self.bias


@dataclass(frozen=True)
class StepResult:
    p_correct: np.ndarray  # (S,) out-of-fold mean over the M heads that scored the step
    p_heads: np.ndarray  # (S, M) each of those heads' P(correct)
    fold: np.ndarray  # (N,) fold of each solution
    layout: StepLayout
    config: dict[str, object]


def step_loss(
    *, logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Each head's weighted mean binary cross-entropy; (B, H) logits and weights, (B, 1)
    targets. Summed over heads, so that the heads stay independent."""
    losses = F.binary_cross_entropy_with_logits(logits, targets.expand_as(logits), reduction="none")
    return ((losses * weights).sum(dim=0) / weights.sum(dim=0).clamp_min(1e-6)).sum()


def train_steps(
    *,
    x: np.ndarray,
    targets: np.ndarray,
    layout: StepLayout,
    config: StepConfig | None = None,
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> StepResult:
    """Out-of-fold P(correct) of every step, from (S, D) embeddings and (S,) targets (NaN:
    not trained on, still scored)."""
    config = config if config is not None else StepConfig()
    if x.ndim != 2 or len(x) != layout.n_steps or targets.shape != (layout.n_steps,):
        raise ValueError(f"x {x.shape} and targets {targets.shape} must have one row per step")
    if not np.isfinite(x).all():
        raise ValueError("embeddings contain NaN or infinity")
    n_solutions, m = layout.n_solutions, config.n_models
    fold = assign_folds(n_pairs=n_solutions, n_folds=config.n_folds, seed=config.seed)
    seeds = head_seeds(seed=config.seed, n_heads=m * config.n_folds)
    per_solution = training_weights(
        n_pairs=n_solutions, fold=fold, n_models=m, bootstrap=config.bootstrap, seeds=seeds
    )
    known = np.isfinite(targets)
    weights = per_solution[:, layout.solution_of_step] * known[None, :]  # (H, S)
    if config.balance:
        # per head, so that each head's right and wrong steps weigh the same in its own loss
        right = (weights * (targets == 1)[None, :]).sum(axis=1, keepdims=True)
        wrong = (weights * (targets == 0)[None, :]).sum(axis=1, keepdims=True)
        total = right + wrong
        scale = np.where(
            targets[None, :] == 1,
            total / (2 * np.maximum(right, 1)),
            total / (2 * np.maximum(wrong, 1)),
        )
        weights = weights * scale
    device = resolve_device(config.device)
    xt = torch.as_tensor(x, dtype=torch.float32, device=device)
    yt = torch.as_tensor(np.nan_to_num(targets, nan=0.0), device=device).unsqueeze(1)
    wt = torch.as_tensor(weights.T.astype(np.float32).copy(), device=device)  # (S, H)
    heads = StepHeads(dim=x.shape[1], seeds=seeds).to(device)
    labelled = np.flatnonzero(known)
    with torch_threads(config.threads):
        _fit(
            heads=heads,
            x=xt,
            y=yt,
            w=wt,
            rows=labelled,
            config=config,
            progress=progress,
            cancel=cancel,
        )
        with torch.inference_mode():
            p_all = torch.sigmoid(heads(xt)).cpu().numpy()  # (S, H)
    step_fold = fold[layout.solution_of_step]
    scored_by = step_fold[:, None] * m + np.arange(m)[None, :]
    p_heads = np.take_along_axis(p_all, scored_by, axis=1)
    return StepResult(
        p_correct=p_heads.mean(axis=1),
        p_heads=p_heads,
        fold=fold,
        layout=layout,
        config=config.to_dict(),
    )


def _fit(
    *,
    heads: StepHeads,
    x: torch.Tensor,
    y: torch.Tensor,
    w: torch.Tensor,
    rows: np.ndarray,
    config: StepConfig,
    progress: StepProgress | None,
    cancel: CancelCheck | None,
) -> None:
    if len(rows) == 0:
        raise ValueError("no step has a label to train on")
    optimizer = torch.optim.AdamW(
        heads.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    order = torch.Generator().manual_seed(config.seed)
    labelled = torch.as_tensor(rows)
    batch_size = min(config.batch_size, len(rows))
    steps_per_epoch = -(-len(rows) // batch_size)
    # as in ensemble.fit_heads: enough optimiser steps that a few hundred solutions still train
    epochs = max(config.epochs, -(-_MIN_STEPS // steps_per_epoch))
    total = epochs * steps_per_epoch
    step = 0
    for _ in range(epochs):
        for batch in labelled[torch.randperm(len(rows), generator=order)].split(batch_size):
            batch = batch.to(x.device)
            loss = step_loss(logits=heads(x[batch]), targets=y[batch], weights=w[batch])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step % max(total // 50, 1) == 0 or step == total:
                raise_if_cancelled(cancel)
                if progress is not None:
                    progress(step, total, "training step heads")


def read_stepwise(path: str | Path) -> tuple[list[str], list[list[str]], np.ndarray]:
    """(problems, solutions, (S,) targets) from a file in the stepwise supervision layout
    (JSON Lines, optionally gzipped, or Parquet; standard or conversational), as PrefLab's
    step exports write it: what a step model needs to train from the file alone."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    else:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
    problems, solutions, targets = [], [], []
    for row in rows:
        prompt, completions, labels = row["prompt"], row["completions"], row["labels"]
        if isinstance(prompt, list):  # conversational: the last user turn is the problem
            prompt = [m for m in prompt if m["role"] == "user"][-1]["content"]
        steps = [c["content"] if isinstance(c, dict) else c for c in completions]
        if len(steps) != len(labels):
            raise ValueError(f"{path.name}: a row has {len(steps)} steps but {len(labels)} labels")
        problems.append(str(prompt))
        solutions.append([str(s) for s in steps])
        targets.append(np.asarray(labels, dtype=np.float32))
    return problems, solutions, np.concatenate(targets) if targets else np.empty(0, np.float32)
