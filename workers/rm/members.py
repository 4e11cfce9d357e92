"""Ensemble members from outside the trained heads, and combining members into one ensemble.

An existing Hugging Face reward model (sequence classification, one output) scores pairs as it
is; imported per-pair score columns come in as arrays. `combine_members` puts any mix of these
and trained heads' margins into one EnsembleResult.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workers.rm.classifier import prepare_tokenizer, reward_margins
from workers.rm.device import resolve_device, resolve_dtype
from workers.rm.progress import CancelCheck, CountProgress
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

    use_chat_template: None = the model's own chat template when its tokenizer has one (reward
    models are trained on that format), else PrefLab's plain "User:/Assistant:" text.
    """
    from transformers import AutoModelForSequenceClassification

    if not len(prompts) == len(chosen) == len(rejected):
        raise ValueError("prompts, chosen and rejected must have the same length")
    torch_device = resolve_device(device)
    tokenizer = prepare_tokenizer(model_path)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_path, dtype=resolve_dtype(dtype, device=torch_device)
    )
    if model.config.num_labels != 1:
        raise ValueError(
            f"{model_path} has {model.config.num_labels} outputs, a reward model has one"
        )
    # Decoder classifiers find each sequence's last token through pad_token_id.
    model.config.pad_token_id = tokenizer.pad_token_id
    model.to(torch_device)
    templated = bool(tokenizer.chat_template) if use_chat_template is None else use_chat_template
    responses = list(chosen) + list(rejected)
    texts = [
        chat_template_text(tokenizer=tokenizer, prompt=prompt, response=response)
        if templated
        else rm_text(prompt=prompt, response=response)
        for prompt, response in zip(list(prompts) * 2, responses, strict=True)
    ]
    ids = tokenize_left(
        tokenizer=tokenizer, texts=texts, max_length=max_length, add_special_tokens=not templated
    )
    return reward_margins(
        model=model,
        ids_chosen=ids[: len(chosen)],
        ids_rejected=ids[len(chosen) :],
        pad_id=tokenizer.pad_token_id,
        batch_size=batch_size,
        device=torch_device,
        progress=progress,
        cancel=cancel,
    )
