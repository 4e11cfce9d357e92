"""Ensemble members from outside the trained heads, and combining members into one ensemble.

An existing Hugging Face reward model (sequence classification, one output) scores pairs as it
is; imported per-pair score columns come in as arrays. `combine_members` puts any mix of these
and trained heads' margins into one EnsembleResult.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from workers.rm.classifier import prepare_tokenizer
from workers.rm.device import (
    length_sorted_batches,
    pad_batch,
    resolve_device,
    resolve_dtype,
    torch_threads,
)
from workers.rm.encoder import model_fingerprint
from workers.rm.progress import CancelCheck, CountProgress, raise_if_cancelled
from workers.rm.result import EnsembleResult, result_from_margins
from workers.rm.text import Prompt, chat_template_text, rm_text, tokenize_left


def combine_members(
    members: Sequence[tuple[str, np.ndarray]], *, standardize: bool = False
) -> EnsembleResult:
    """One ensemble from named margin arrays, each (N,) or (N, k), all for the same N pairs.

    standardize=True divides each column by its std (about zero), so that a reward model whose
    margins run to +-20 does not outvote heads whose margins run to +-2; the sign, and so the
    vote, of every member is unchanged.
    """
    if not members:
        raise ValueError("no members to combine")
    columns: list[np.ndarray] = []
    names: list[str] = []
    for name, values in members:
        array = np.asarray(values, dtype=np.float64)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise ValueError(f"member {name!r}: margins must be (N,) or (N, k), got {array.shape}")
        if columns and len(array) != len(columns[0]):
            raise ValueError(f"member {name!r} has {len(array)} pairs, expected {len(columns[0])}")
        columns.append(array)
        k = array.shape[1]
        names.extend([name] if k == 1 else [f"{name}[{j}]" for j in range(k)])
    margins = np.concatenate(columns, axis=1)
    if standardize:
        scale = np.sqrt((margins**2).mean(axis=0))
        margins = margins / np.where(scale > 0, scale, 1.0)
    return result_from_margins(
        margins=margins, member_names=names, config={"standardize": standardize}
    )


class RewardSource:
    """An existing reward model (sequence classification, one output) as an EmbeddingSource
    of width one: each text's reward. Its rewards so go through the same shards, store and
    cache as embeddings do, keyed by the model's fingerprint: a rescoring never runs it again
    on a text it has scored. Texts come from ``reward_texts``, in the model's own format."""

    def __init__(
        self,
        *,
        model_path: str,
        max_length: int = 1024,
        batch_size: int = 16,
        templated: bool = False,
        device: str = "auto",
        dtype: str = "auto",
        threads: int = 0,
    ) -> None:
        from transformers import AutoModelForSequenceClassification

        self.model_path = model_path
        self.max_length = max_length
        self.batch_size = batch_size
        self.templated = templated
        self.threads = threads
        self.device = resolve_device(device)
        self.tokenizer = prepare_tokenizer(model_path)
        self.model = AutoModelForSequenceClassification.from_pretrained(
            model_path, dtype=resolve_dtype(dtype, device=self.device)
        )
        if self.model.config.num_labels != 1:
            raise ValueError(
                f"{model_path} has {self.model.config.num_labels} outputs, a reward model has one"
            )
        # Decoder classifiers find each sequence's last token through pad_token_id.
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.model.to(self.device).eval()
        self.fingerprint = model_fingerprint(model_path)

    @property
    def cache_key(self) -> dict[str, Any]:
        return {
            "reward_model": self.fingerprint,
            "max_length": self.max_length,
            "templated": self.templated,
        }

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: CountProgress | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray:
        """(N, 1) float32 rewards, in batches of similar length."""
        ids = tokenize_left(
            tokenizer=self.tokenizer,
            texts=texts,
            max_length=self.max_length,
            add_special_tokens=not self.templated,
        )
        rewards = np.empty((len(ids), 1), dtype=np.float32)
        done = 0
        pad_id = self.tokenizer.pad_token_id
        with torch_threads(self.threads), torch.inference_mode():
            for batch in length_sorted_batches([len(r) for r in ids], batch_size=self.batch_size):
                raise_if_cancelled(cancel)
                input_ids, mask = pad_batch(
                    [ids[i] for i in batch], pad_id=pad_id, device=self.device
                )
                logits = self.model(input_ids=input_ids, attention_mask=mask).logits
                rewards[batch, 0] = logits[:, 0].float().cpu().numpy()
                done += len(batch)
                if progress is not None:
                    progress(done, len(ids))
        return rewards


def reward_texts(
    *, tokenizer: Any, templated: bool, prompts: Sequence[Prompt], responses: Sequence[str]
) -> list[str]:
    """The text a reward model reads for each (prompt, response): its own chat template when
    ``templated``, else PrefLab's plain "User:/Assistant:" text."""
    return [
        chat_template_text(tokenizer=tokenizer, prompt=prompt, response=response)
        if templated
        else rm_text(prompt=prompt, response=response)
        for prompt, response in zip(prompts, responses, strict=True)
    ]


def uses_chat_template(tokenizer: Any, use_chat_template: bool | None) -> bool:
    """None = the model's own chat template when its tokenizer has one (reward models are
    trained on that format)."""
    return bool(tokenizer.chat_template) if use_chat_template is None else use_chat_template


def score_with_sequence_classifier(
    *,
    model_path: str,
    prompts: Sequence[Prompt],
    chosen: Sequence[str],
    rejected: Sequence[str],
    max_length: int = 1024,
    batch_size: int = 16,
    device: str = "auto",
    dtype: str = "auto",
    use_chat_template: bool | None = None,
    progress: CountProgress | None = None,
    cancel: CancelCheck | None = None,
) -> np.ndarray:
    """(N,) float32 margins r(prompt, chosen) - r(prompt, rejected) under an existing reward model.

    use_chat_template: see uses_chat_template. A scoring run does the same through shards
    (webapp/scoring/services.py); this is the in-process path."""
    if not len(prompts) == len(chosen) == len(rejected):
        raise ValueError("prompts, chosen and rejected must have the same length")
    templated = uses_chat_template(prepare_tokenizer(model_path), use_chat_template)
    source = RewardSource(
        model_path=model_path,
        max_length=max_length,
        batch_size=batch_size,
        templated=templated,
        device=device,
        dtype=dtype,
    )
    texts = reward_texts(
        tokenizer=source.tokenizer,
        templated=templated,
        prompts=list(prompts) * 2,
        responses=list(chosen) + list(rejected),
    )
    rewards = source.encode(texts, progress=progress, cancel=cancel)[:, 0]
    return rewards[: len(chosen)] - rewards[len(chosen) :]
