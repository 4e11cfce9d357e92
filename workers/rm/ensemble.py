"""Train M Bradley-Terry reward heads on frozen pair embeddings and score every pair.

Out-of-fold (default): pairs are split into K folds; for each fold k, M heads train on the other
K - 1 folds and score fold k. Every margin therefore comes from a model that never saw the
pair, so a mislabelled pair is judged by models that learned the task from the other pairs
rather than memorised its label. K * M heads are trained, all at once.

In-sample (as in "Secrets of RLHF Part II"): M heads train on all pairs and score all pairs.

Each head trains on a bootstrap resample, which leaves about a third of its training pairs
out of its bag; the head keeps the weights of the epoch where its loss on those pairs was
lowest (EnsembleConfig.early_stopping). On a few thousand noisy pairs, training to the end
fits the wrong labels too, and that is the very signal strength must not lose.

Label-noise cleaning (EnsembleConfig.denoise_share): the same out-of-bag pairs give every
training pair a vote from models that never saw its label. A second round retrains all heads,
from the same seeds, without the training pairs whose votes contradict them most, so that the
heads that score a pair learned the task from cleaner pairs than their folds hold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from workers.rm.config import EnsembleConfig, FinetuneConfig
from workers.rm.device import resolve_device, torch_threads
from workers.rm.heads import RewardHeads
from workers.rm.loss import bradley_terry_loss
from workers.rm.progress import CancelCheck, StepProgress, raise_if_cancelled
from workers.rm.result import EnsembleResult, result_from_margins

# Optimiser steps at least, so that a few hundred pairs (one batch per epoch) still train.
_MIN_STEPS = 300
# Pairs per forward pass when scoring; bounds memory of MLP heads on 100k+ pairs.
_SCORE_CHUNK = 8192


def assign_folds(*, n_pairs: int, n_folds: int, seed: int) -> np.ndarray:
    """A balanced random fold id in [0, n_folds) per pair."""
    if n_pairs < n_folds:
        raise ValueError(f"{n_pairs} pairs cannot be split into {n_folds} folds")
    order = np.random.default_rng(seed).permutation(n_pairs)
    fold = np.empty(n_pairs, dtype=np.int64)
    fold[order] = np.arange(n_pairs) % n_folds
    return fold


def head_seeds(*, seed: int, n_heads: int) -> list[int]:
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n_heads)]


def training_weights(
    *,
    n_pairs: int,
    fold: np.ndarray | None,
    n_models: int,
    bootstrap: bool,
    seeds: Sequence[int],
) -> np.ndarray:
    """(H, N) times each head sees each pair; head h = k * n_models + m trains without fold k.

    In-sample (fold None), every head trains on every pair. A bootstrap sample is expressed as
    counts instead of copied rows, so that all heads share one pass over the data.
    """
    weights = np.zeros((len(seeds), n_pairs), dtype=np.float32)
    for head, seed in enumerate(seeds):
        train = np.flatnonzero(fold != head // n_models) if fold is not None else np.arange(n_pairs)
        if bootstrap:
            draws = np.random.default_rng(seed).integers(0, len(train), size=len(train))
            weights[head, train] = np.bincount(draws, minlength=len(train))
        else:
            weights[head, train] = 1.0
    return weights


@dataclass(frozen=True)
class HeadPlan:
    """Which of the H heads train on which pairs, and which M heads score each pair."""

    seeds: list[int]  # (H,) one per head, H = K * M out-of-fold, M in-sample
    fold: np.ndarray | None  # (N,) out-of-fold only
    weights: np.ndarray  # (H, N) bootstrap counts; 0 = never seen
    scored_by: np.ndarray  # (N, M) head behind each margin column
    # (H, N) pairs of a head's training folds that its bootstrap did not draw: a held-out set
    # for early stopping that is never a pair the head scores. All False without bootstrap.
    out_of_bag: np.ndarray

    def member_of(self, head: int) -> int:
        return head % self.scored_by.shape[1]


def plan_heads(
    *, n_pairs: int, n_models: int, n_folds: int, mode: str, bootstrap: bool, seed: int
) -> HeadPlan:
    if mode not in ("oof", "insample"):
        raise ValueError(f"unknown mode {mode!r}")
    if n_pairs < 2 or n_models < 1 or (mode == "oof" and n_folds < 2):
        raise ValueError("need 2+ pairs, n_models >= 1 and, out-of-fold, n_folds >= 2")
    fold = assign_folds(n_pairs=n_pairs, n_folds=n_folds, seed=seed) if mode == "oof" else None
    seeds = head_seeds(seed=seed, n_heads=n_models * (n_folds if fold is not None else 1))
    member = np.arange(n_models)[None, :]
    scored_by = fold[:, None] * n_models + member if fold is not None else member
    weights = training_weights(
        n_pairs=n_pairs, fold=fold, n_models=n_models, bootstrap=bootstrap, seeds=seeds
    )
    if fold is not None:
        in_training_folds = fold[None, :] != (np.arange(len(seeds)) // n_models)[:, None]
    else:
        in_training_folds = np.ones_like(weights, dtype=bool)
    return HeadPlan(
        seeds=seeds,
        fold=fold,
        weights=weights,
        scored_by=np.broadcast_to(scored_by, (n_pairs, n_models)).copy(),
        out_of_bag=in_training_folds & (weights == 0) & bootstrap,
    )


def plan_for(*, n_pairs: int, config: EnsembleConfig | FinetuneConfig) -> HeadPlan:
    """The plan of a config's M models, K folds, mode, bootstrap and seed for n_pairs pairs."""
    return plan_heads(
        n_pairs=n_pairs,
        n_models=config.n_models,
        n_folds=config.n_folds,
        mode=config.mode,
        bootstrap=config.bootstrap,
        seed=config.seed,
    )


def train_ensemble(
    *,
    chosen: np.ndarray,
    rejected: np.ndarray,
    config: EnsembleConfig | None = None,
    pair_margin: np.ndarray | None = None,
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> EnsembleResult:
    """Margins of every pair under M models, from (N, D) embeddings of the chosen and rejected
    texts. pair_margin, when given, is a per-pair Bradley-Terry margin used instead of
    config.margin (e.g. from annotators' preference strength)."""
    config = config if config is not None else EnsembleConfig()
    _check_inputs(chosen=chosen, rejected=rejected, pair_margin=pair_margin)
    n_pairs, dim = chosen.shape
    plan = plan_for(n_pairs=n_pairs, config=config)
    device = resolve_device(config.device)
    x_chosen = torch.as_tensor(chosen, dtype=torch.float32, device=device)
    x_rejected = torch.as_tensor(rejected, dtype=torch.float32, device=device)
    heads = RewardHeads(dim=dim, hidden=config.hidden, seeds=plan.seeds).to(device)
    margin = (
        torch.as_tensor(pair_margin, dtype=torch.float32, device=device).unsqueeze(1)
        if pair_margin is not None
        else torch.full((n_pairs, 1), config.margin, device=device)
    )
    if not 0.0 <= config.denoise_share < 1.0:
        raise ValueError(f"denoise_share must be in [0, 1), got {config.denoise_share}")
    rounds = 2 if config.denoise_share > 0 and config.bootstrap else 1

    def fit_and_score(
        heads: RewardHeads, weights: np.ndarray, out_of_bag: np.ndarray, round_: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        train_loss, kept_epoch = fit_heads(
            heads=heads,
            x_chosen=x_chosen,
            x_rejected=x_rejected,
            margin=margin,
            # (N, H) so that a batch of pairs is a contiguous row gather
            weights=torch.as_tensor(weights.T.copy(), device=device),
            out_of_bag=(
                torch.as_tensor(out_of_bag.T.astype(np.float32), device=device)
                if config.early_stopping and out_of_bag.any()
                else None
            ),
            config=config,
            progress=_round_progress(progress, round_, rounds),
            cancel=cancel,
        )
        return train_loss, kept_epoch, _score(heads=heads, x_chosen=x_chosen, x_rejected=x_rejected)

    weights = plan.weights
    with torch_threads(config.threads):
        train_loss, kept_epoch, all_margins = fit_and_score(heads, weights, plan.out_of_bag, 0)
        if rounds == 2:
            dropped = denoise_drops(plan=plan, margins=all_margins, share=config.denoise_share)
            weights = np.where(dropped, 0.0, plan.weights).astype(np.float32)
            heads = RewardHeads(dim=dim, hidden=config.hidden, seeds=plan.seeds).to(device)
            train_loss, kept_epoch, all_margins = fit_and_score(
                heads, weights, plan.out_of_bag & ~dropped, 1
            )
    return result_from_margins(
        margins=np.take_along_axis(all_margins, plan.scored_by, axis=1),
        member_names=[f"head-{m}" for m in range(config.n_models)],
        seeds=plan.seeds,
        train_loss=train_loss,
        kept_epoch=kept_epoch,
        fold=plan.fold,
        scored_by=plan.scored_by,
        # the final heads' samples: round two's, less the pairs that cleaning left out
        trained_on=weights > 0,
        config=config.to_dict(),
    )


def denoise_drops(*, plan: HeadPlan, margins: np.ndarray, share: float) -> np.ndarray:
    """(H, N) True where a head's second round leaves a training pair out.

    The heads that train on the same folds (one fold group, all M heads in-sample) vote on each
    of those folds' pairs with the heads whose bootstrap did not draw it: the mean of their
    margins, (N, H) `margins` of round one. The `share` of voted pairs with the lowest vote is
    left out by every head of the group; a pair that no head of the group left out of its bag
    has no vote and stays."""
    n_models = plan.scored_by.shape[1]
    dropped = np.zeros_like(plan.out_of_bag)
    for start in range(0, len(plan.seeds), n_models):
        group = slice(start, start + n_models)
        voters = plan.out_of_bag[group].T  # (N, M)
        n_votes = voters.sum(axis=1)
        voted = np.flatnonzero(n_votes > 0)
        if len(voted) == 0:
            continue
        vote = (margins[voted, group] * voters[voted]).sum(axis=1) / n_votes[voted]
        n_drop = int(share * len(voted))
        if n_drop == 0:
            continue
        worst = voted[np.argsort(vote, kind="stable")[:n_drop]]
        dropped[group, worst] = True
    return dropped


def _round_progress(progress: StepProgress | None, round_: int, rounds: int) -> StepProgress | None:
    """Progress over both rounds of training as one count."""
    if progress is None or rounds == 1:
        return progress
    report = progress

    def step(done: int, total: int, message: str = "") -> None:
        report(round_ * total + done, rounds * total, message)

    return step


def _check_inputs(
    *,
    chosen: np.ndarray,
    rejected: np.ndarray,
    pair_margin: np.ndarray | None,
) -> None:
    if chosen.ndim != 2 or chosen.shape != rejected.shape:
        raise ValueError(f"chosen {chosen.shape} and rejected {rejected.shape} must be (N, D)")
    if not (np.isfinite(chosen).all() and np.isfinite(rejected).all()):
        raise ValueError("embeddings contain NaN or infinity")
    if pair_margin is not None and pair_margin.shape != (len(chosen),):
        raise ValueError(f"pair_margin must be ({len(chosen)},), got {pair_margin.shape}")


def fit_heads(
    *,
    heads: RewardHeads,
    x_chosen: torch.Tensor,
    x_rejected: torch.Tensor,
    margin: torch.Tensor,
    weights: torch.Tensor,
    out_of_bag: torch.Tensor | None,
    config: EnsembleConfig,
    progress: StepProgress | None,
    cancel: CancelCheck | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Minibatch AdamW over the pairs; returns the (H, epochs) weighted mean training loss per
    epoch and the (H,) epoch whose weights each head kept.

    out_of_bag, (N, H) 0/1: each head ends with its weights from the epoch of lowest mean loss
    on its own out-of-bag pairs; None keeps the last epoch's weights."""
    n_pairs, n_heads = weights.shape
    batch_size = min(config.batch_size, n_pairs)
    steps_per_epoch = math.ceil(n_pairs / batch_size)
    epochs = max(config.epochs, math.ceil(_MIN_STEPS / steps_per_epoch))
    total = epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(
        heads.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    order_generator = torch.Generator().manual_seed(config.seed)
    history = np.zeros((n_heads, epochs), dtype=np.float32)
    kept_epoch = np.full(n_heads, epochs - 1, dtype=np.int64)
    best_loss = torch.full((n_heads,), math.inf, device=weights.device)
    best_params = [p.detach().clone() for p in heads.parameters()]
    step = 0
    for epoch in range(epochs):
        loss_sum = torch.zeros(n_heads, device=weights.device)
        for batch in torch.randperm(n_pairs, generator=order_generator).split(batch_size):
            rows = batch.to(weights.device)
            w = weights[rows]
            losses = bradley_terry_loss(
                r_chosen=heads(x_chosen[rows]),
                r_rejected=heads(x_rejected[rows]),
                margin=margin[rows],
                reduction="none",
            )
            weighted = (losses * w).sum(dim=0)
            # Each head's own bootstrap-weighted mean; summing over heads keeps them independent.
            (weighted / w.sum(dim=0).clamp_min(1.0)).sum().backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            loss_sum += weighted.detach()
            step += 1
            # ~100 reports per job: the callback may write to a database.
            if step % max(total // 100, 1) == 0 or step == total:
                raise_if_cancelled(cancel)
                if progress is not None:
                    progress(step, total, f"training {n_heads} reward heads")
        history[:, epoch] = (loss_sum / weights.sum(dim=0).clamp_min(1.0)).cpu().numpy()
        if out_of_bag is not None:
            held_out = _held_out_loss(
                heads=heads,
                x_chosen=x_chosen,
                x_rejected=x_rejected,
                margin=margin,
                out_of_bag=out_of_bag,
            )
            better = held_out < best_loss
            best_loss = torch.where(better, held_out, best_loss)
            kept_epoch[better.cpu().numpy()] = epoch
            with torch.no_grad():
                # every parameter of RewardHeads is stacked along the head axis first
                for best, param in zip(best_params, heads.parameters(), strict=True):
                    best[better] = param[better]
    if out_of_bag is not None:
        with torch.no_grad():
            for best, param in zip(best_params, heads.parameters(), strict=True):
                param.copy_(best)
    return history, kept_epoch


def _held_out_loss(
    *,
    heads: RewardHeads,
    x_chosen: torch.Tensor,
    x_rejected: torch.Tensor,
    margin: torch.Tensor,
    out_of_bag: torch.Tensor,
) -> torch.Tensor:
    """(H,) each head's mean Bradley-Terry loss over its out-of-bag pairs."""
    total = torch.zeros(out_of_bag.shape[1], device=out_of_bag.device)
    with torch.inference_mode():
        for start in range(0, len(x_chosen), _SCORE_CHUNK):
            stop = start + _SCORE_CHUNK
            losses = bradley_terry_loss(
                r_chosen=heads(x_chosen[start:stop]),
                r_rejected=heads(x_rejected[start:stop]),
                margin=margin[start:stop],
                reduction="none",
            )
            total += (losses * out_of_bag[start:stop]).sum(dim=0)
    return total / out_of_bag.sum(dim=0).clamp_min(1.0)


def _score(*, heads: RewardHeads, x_chosen: torch.Tensor, x_rejected: torch.Tensor) -> np.ndarray:
    """(N, H) margins r_h(chosen) - r_h(rejected) of every pair under every head."""
    parts = []
    with torch.inference_mode():
        for start in range(0, len(x_chosen), _SCORE_CHUNK):
            stop = start + _SCORE_CHUNK
            parts.append(heads(x_chosen[start:stop]) - heads(x_rejected[start:stop]))
    return torch.cat(parts).cpu().numpy().astype(np.float32)
