"""A full reward model: a sequence-classification transformer with one output, the reward.

Its tokenizer, loading it for training, and its forward pass over token ids (left-truncated by
text.tokenize_left): a batch of pairs while training, every text of a set when scoring. The
fine-tuned ensembles (finetune), training runs (training) and existing reward models
(members) all go through these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from workers.rm.device import autocast, length_sorted_batches, pad_batch
from workers.rm.progress import CancelCheck, CountProgress, raise_if_cancelled
from workers.rm.text import load_tokenizer


def prepare_tokenizer(model_path: str) -> Any:
    """Left-truncating tokenizer with a pad token (decoder-only models often have none)."""
    tokenizer = load_tokenizer(model_path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    if tokenizer.pad_token_id is None:
        raise ValueError(f"{model_path}: tokenizer has no pad, eos or unk token to pad with")
    return tokenizer


def load_reward_model(model_path: str, *, pad_id: int) -> Any:
    """A model to train: fp32 weights, and a one-output head (new when the checkpoint has none).

    Decoder classifiers find each sequence's last token through pad_token_id."""
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(
        model_path, num_labels=1, dtype=torch.float32
    )
    model.config.pad_token_id = pad_id
    return model


def _rewards(
    model: Any, ids: Sequence[Sequence[int]], *, pad_id: int, device: torch.device
) -> torch.Tensor:
    """(T,) fp32 reward of each text of one batch."""
    input_ids, mask = pad_batch(ids, pad_id=pad_id, device=device)
    return model(input_ids=input_ids, attention_mask=mask).logits[:, 0].float()


def pair_rewards(
    *,
    model: Any,
    ids_chosen: Sequence[Sequence[int]],
    ids_rejected: Sequence[Sequence[int]],
    rows: Sequence[int] | np.ndarray,
    pad_id: int,
    device: torch.device,
    autocast_dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,) rewards of the chosen and of the rejected texts of the pairs `rows`, with gradients.

    One forward pass over chosen and rejected: half the launches of two passes."""
    with autocast(device, autocast_dtype):
        rewards = _rewards(
            model,
            [ids_chosen[i] for i in rows] + [ids_rejected[i] for i in rows],
            pad_id=pad_id,
            device=device,
        )
    return rewards[: len(rows)], rewards[len(rows) :]


def reward_margins(
    *,
    model: Any,
    ids_chosen: Sequence[Sequence[int]],
    ids_rejected: Sequence[Sequence[int]],
    pad_id: int,
    batch_size: int,
    device: torch.device,
    autocast_dtype: torch.dtype | None = None,
    progress: CountProgress | None = None,
    cancel: CancelCheck | None = None,
) -> np.ndarray:
    """(N,) float32 margins r(chosen) - r(rejected) of tokenised pairs.

    All 2N texts go through the model in batches of similar length; progress counts texts."""
    rewards = text_rewards(
        model=model,
        ids=[*ids_chosen, *ids_rejected],
        pad_id=pad_id,
        batch_size=batch_size,
        device=device,
        autocast_dtype=autocast_dtype,
        progress=progress,
        cancel=cancel,
    )
    return rewards[: len(ids_chosen)] - rewards[len(ids_chosen) :]


def text_rewards(
    *,
    model: Any,
    ids: Sequence[Sequence[int]],
    pad_id: int,
    batch_size: int,
    device: torch.device,
    autocast_dtype: torch.dtype | None = None,
    progress: CountProgress | None = None,
    cancel: CancelCheck | None = None,
) -> np.ndarray:
    """(T,) float32 output of the model's one-output head on each tokenised text, in batches
    of similar length (a reward, or a step model's logit of P(correct))."""
    rewards = np.empty(len(ids), dtype=np.float32)
    done = 0
    model.eval()
    with torch.inference_mode(), autocast(device, autocast_dtype):
        for batch in length_sorted_batches([len(row) for row in ids], batch_size=batch_size):
            raise_if_cancelled(cancel)
            scores = _rewards(model, [ids[i] for i in batch], pad_id=pad_id, device=device)
            rewards[batch] = scores.cpu().numpy()
            done += len(batch)
            if progress is not None:
                progress(done, len(ids))
    return rewards
