"""Fine-tune mode for the step model: the encoder trained together with a one-output step head
(the logit of P(step correct)), for the GPU worker, where steps.py trains heads on the frozen
encoder's embeddings.

The same texts (steps.step_texts: the problem and the solution up to and including the step,
cut from the left), the same targets (1 right, 0 wrong, NaN unknown: scored, never trained
on) and the same loss (steps.step_loss, a weighted binary cross-entropy, right and wrong steps
balanced) as the heads. The model is a Hugging Face sequence-classification checkpoint with
one output, saved as a fine-tuned reward model is (saved.save_model), and read back by
``score_step_model``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workers.rm.classifier import load_reward_model, prepare_tokenizer, text_rewards
from workers.rm.config import StepFinetuneConfig
from workers.rm.device import autocast, pad_batch, resolve_autocast, resolve_device, torch_threads
from workers.rm.progress import CancelCheck, StepProgress, raise_if_cancelled
from workers.rm.steps import StepLayout, step_loss, step_texts
from workers.rm.text import Prompt, tokenize_left


@dataclass
class StepFinetuneResult:
    model: Any  # the fine-tuned checkpoint, on the cpu
    tokenizer: Any
    p_correct: np.ndarray  # (S,) every step's P(correct) after training
    layout: StepLayout
    curves: dict[str, list[float]] = field(default_factory=dict)  # train_loss per epoch


def balanced_weights(targets: np.ndarray, *, balance: bool) -> np.ndarray:
    """(S,) loss weight of each step: 0 where unknown; with ``balance``, right and wrong steps
    weigh half the total each (wrong ones are rarer, and the ones that matter)."""
    known = np.isfinite(targets)
    weights = known.astype(np.float32)
    right, wrong = int((targets == 1).sum()), int((targets == 0).sum())
    if balance and right and wrong:
        weights[targets == 1] = (right + wrong) / (2 * right)
        weights[targets == 0] = (right + wrong) / (2 * wrong)
    return weights


def _texts(problems: Sequence[Prompt], solutions: Sequence[Sequence[str]]) -> list[str]:
    return [
        text
        for problem, steps in zip(problems, solutions, strict=True)
        for text in step_texts(problem=problem, steps=steps)
    ]


def finetune_steps(
    *,
    problems: Sequence[Prompt],
    solutions: Sequence[Sequence[str]],
    targets: np.ndarray,
    config: StepFinetuneConfig | None = None,
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> StepFinetuneResult:
    """Fine-tune ``config.model`` with its one-output head on the labelled steps of the
    solutions ((S,) targets over all their steps, in order), then score every step."""
    config = config if config is not None else StepFinetuneConfig()
    layout = StepLayout.of([len(s) for s in solutions])
    if targets.shape != (layout.n_steps,):
        raise ValueError(f"targets {targets.shape} must have one value per step")
    rows = np.flatnonzero(np.isfinite(targets))
    if len(rows) == 0:
        raise ValueError("no step has a label to train on")
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    autocast_dtype = resolve_autocast(config.dtype, device=device)
    tokenizer = prepare_tokenizer(config.model)
    model = load_reward_model(config.model, pad_id=tokenizer.pad_token_id).to(device)
    ids = tokenize_left(
        tokenizer=tokenizer, texts=_texts(problems, solutions), max_length=config.max_length
    )
    y = torch.as_tensor(np.nan_to_num(targets, nan=0.0), dtype=torch.float32, device=device)
    w = torch.as_tensor(balanced_weights(targets, balance=config.balance), device=device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    order = torch.Generator().manual_seed(config.seed)
    batch_size = min(config.batch_size, len(rows))
    total = config.epochs * -(-len(rows) // batch_size)
    curves: dict[str, list[float]] = {"train_loss": []}
    step = 0
    with torch_threads(config.threads if device.type == "cpu" else 0):
        for epoch in range(config.epochs):
            model.train()
            loss_sum = 0.0
            shuffled = rows[torch.randperm(len(rows), generator=order).numpy()]
            for start in range(0, len(shuffled), batch_size):
                batch = shuffled[start : start + batch_size].tolist()
                input_ids, mask = pad_batch(
                    [ids[i] for i in batch], pad_id=tokenizer.pad_token_id, device=device
                )
                with autocast(device, autocast_dtype):
                    logits = model(input_ids=input_ids, attention_mask=mask).logits.float()
                loss = step_loss(
                    logits=logits, targets=y[batch].unsqueeze(1), weights=w[batch].unsqueeze(1)
                )
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                loss_sum += float(loss.detach()) * len(batch)
                step += 1
                raise_if_cancelled(cancel)
                if progress is not None:
                    progress(step, total, f"fine-tuning the step model, epoch {epoch + 1}")
            curves["train_loss"].append(loss_sum / len(rows))
        logits = text_rewards(
            model=model,
            ids=ids,
            pad_id=tokenizer.pad_token_id,
            batch_size=config.eval_batch_size,
            device=device,
            autocast_dtype=autocast_dtype,
            cancel=cancel,
        )
    return StepFinetuneResult(
        model=model.cpu(),
        tokenizer=tokenizer,
        p_correct=1 / (1 + np.exp(-logits.astype(np.float64))),
        layout=layout,
        curves=curves,
    )


def score_step_model(
    *,
    folder: str | Path,
    problems: Sequence[Prompt],
    solutions: Sequence[Sequence[str]],
    max_length: int,
    batch_size: int = 64,
    device: str = "auto",
) -> np.ndarray:
    """(S,) P(correct) of every step of the solutions, by a saved fine-tuned step model."""
    from transformers import AutoModelForSequenceClassification

    where = resolve_device(device)
    tokenizer = prepare_tokenizer(str(folder))
    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).to(where)
    ids = tokenize_left(
        tokenizer=tokenizer, texts=_texts(problems, solutions), max_length=max_length
    )
    logits = text_rewards(
        model=model, ids=ids, pad_id=tokenizer.pad_token_id, batch_size=batch_size, device=where
    )
    return 1 / (1 + np.exp(-logits.astype(np.float64)))
