"""Fine-tune mode: M full transformer reward models instead of heads on frozen embeddings.

Same Bradley-Terry loss, same folds, seeds and bootstrap samples as `ensemble.train_ensemble`
(K * M models out-of-fold, M in-sample), trained one after the other on whatever device there
is. Meant for GPU workers; a tiny model makes it testable on CPU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from workers.rm.classifier import load_reward_model, pair_rewards, prepare_tokenizer, reward_margins
from workers.rm.config import FinetuneConfig
from workers.rm.device import resolve_autocast, resolve_device, torch_threads
from workers.rm.ensemble import plan_for
from workers.rm.loss import bradley_terry_loss
from workers.rm.progress import CancelCheck, StepProgress, raise_if_cancelled
from workers.rm.result import EnsembleResult, result_from_margins
from workers.rm.text import Prompt, rm_texts, tokenize_left


def finetune_ensemble(
    *,
    prompts: Sequence[Prompt],
    chosen: Sequence[str],
    rejected: Sequence[str],
    config: FinetuneConfig | None = None,
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> EnsembleResult:
    config = config if config is not None else FinetuneConfig()
    with torch_threads(config.threads):
        return _finetune(
            prompts=prompts,
            chosen=chosen,
            rejected=rejected,
            config=config,
            progress=progress,
            cancel=cancel,
        )


def _finetune(
    *,
    prompts: Sequence[Prompt],
    chosen: Sequence[str],
    rejected: Sequence[str],
    config: FinetuneConfig,
    progress: StepProgress | None,
    cancel: CancelCheck | None,
) -> EnsembleResult:
    n_pairs = len(prompts)
    if not n_pairs == len(chosen) == len(rejected):
        raise ValueError("prompts, chosen and rejected must have the same length")
    plan = plan_for(n_pairs=n_pairs, config=config)
    n_heads = len(plan.seeds)
    device = resolve_device(config.device)
    autocast_dtype = resolve_autocast(config.dtype, device=device)
    tokenizer = prepare_tokenizer(config.model)
    ids_chosen = tokenize_left(
        tokenizer=tokenizer,
        texts=rm_texts(prompts=prompts, responses=chosen),
        max_length=config.max_length,
    )
    ids_rejected = tokenize_left(
        tokenizer=tokenizer,
        texts=rm_texts(prompts=prompts, responses=rejected),
        max_length=config.max_length,
    )
    samples = [np.repeat(np.arange(n_pairs), counts.astype(np.int64)) for counts in plan.weights]
    steps = [config.epochs * math.ceil(len(s) / config.batch_size) for s in samples]
    tracker = _Tracker(total=sum(steps), progress=progress, cancel=cancel)

    margins = np.zeros((n_pairs, config.n_models), dtype=np.float32)
    history = np.zeros((n_heads, config.epochs), dtype=np.float32)
    # fork_rng: seeding for one model (score-head init, dropout) leaves the caller's RNG as it was
    rng_devices = [torch.cuda.current_device()] if device.type == "cuda" else []
    for head, seed in enumerate(plan.seeds):
        with torch.random.fork_rng(devices=rng_devices):
            torch.manual_seed(seed)
            model = load_reward_model(config.model, pad_id=tokenizer.pad_token_id).to(device)
            history[head] = _train_one(
                model=model,
                sample=samples[head],
                ids_chosen=ids_chosen,
                ids_rejected=ids_rejected,
                pad_id=tokenizer.pad_token_id,
                config=config,
                device=device,
                autocast_dtype=autocast_dtype,
                generator=torch.Generator().manual_seed(seed),
                tracker=tracker,
                label=f"model {head + 1}/{n_heads}",
            )
        scored = np.flatnonzero((plan.scored_by == head).any(axis=1))
        margins[scored, plan.member_of(head)] = reward_margins(
            model=model,
            ids_chosen=[ids_chosen[i] for i in scored],
            ids_rejected=[ids_rejected[i] for i in scored],
            pad_id=tokenizer.pad_token_id,
            batch_size=config.eval_batch_size,
            device=device,
            autocast_dtype=autocast_dtype,
            cancel=cancel,
        )
        del model
        if device.type == "cuda":
            torch.cuda.empty_cache()

    return result_from_margins(
        margins=margins,
        member_names=[f"finetuned-{m}" for m in range(config.n_models)],
        seeds=plan.seeds,
        train_loss=history,
        fold=plan.fold,
        scored_by=plan.scored_by,
        trained_on=plan.weights > 0,
        config=config.to_dict(),
    )


class _Tracker:
    """Counts optimiser steps over all models; reports and checks for cancel on each."""

    def __init__(
        self, *, total: int, progress: StepProgress | None, cancel: CancelCheck | None
    ) -> None:
        self.total, self.done = total, 0
        self.progress, self.cancel = progress, cancel

    def step(self, message: str) -> None:
        self.done += 1
        raise_if_cancelled(self.cancel)
        if self.progress is not None:
            self.progress(self.done, self.total, message)


def _train_one(
    *,
    model: Any,
    sample: np.ndarray,
    ids_chosen: list[list[int]],
    ids_rejected: list[list[int]],
    pad_id: int,
    config: FinetuneConfig,
    device: torch.device,
    autocast_dtype: torch.dtype | None,
    generator: torch.Generator,
    tracker: _Tracker,
    label: str,
) -> np.ndarray:
    """Train one model on its sample of pair indices; (epochs,) mean loss per epoch."""
    from transformers import get_linear_schedule_with_warmup

    steps_per_epoch = math.ceil(len(sample) / config.batch_size)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    schedule = get_linear_schedule_with_warmup(
        optimizer,
        num_warmup_steps=int(config.warmup_ratio * steps_per_epoch * config.epochs),
        num_training_steps=steps_per_epoch * config.epochs,
    )
    losses = np.zeros(config.epochs, dtype=np.float32)
    model.train()
    for epoch in range(config.epochs):
        order = sample[torch.randperm(len(sample), generator=generator).numpy()]
        for start in range(0, len(order), config.batch_size):
            pairs = order[start : start + config.batch_size]
            r_chosen, r_rejected = pair_rewards(
                model=model,
                ids_chosen=ids_chosen,
                ids_rejected=ids_rejected,
                rows=pairs,
                pad_id=pad_id,
                device=device,
                autocast_dtype=autocast_dtype,
            )
            loss = bradley_terry_loss(
                r_chosen=r_chosen, r_rejected=r_rejected, margin=config.margin
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            losses[epoch] += loss.item() * len(pairs) / len(sample)
            tracker.step(f"{label}: epoch {epoch + 1}/{config.epochs}")
    return losses
