"""What the frozen encoder can still give the strength signal, each variant measured as
bench_strength measures the default: the ROC AUC of -mu for finding injected label flips (20%
of each HH-RLHF test split, five draws), beside the default ensemble in the same run and on the
same flips and folds, with the paired-bootstrap standard error of the difference.

- ``response_pool``: the context view pools only the response's own tokens (the last tokens
  of "User: ... Assistant: <response>", counted by tokenising the response alone) instead of
  every token of the text: the response read in its prompt's context, without the prompt's
  tokens averaged in. The response-alone view stays as it is.
- ``quadratic``: heads on [x, x * x] (each response's vector and its elementwise square): a
  reward quadratic in the embedding, so products of the features count, while the margin
  r(chosen) - r(rejected) stays antisymmetric as Bradley-Terry wants.
- ``mixed_views``: members that see different things: two heads each on the context view's
  layer 3, its layer 5, the response view's layer 3 and its layer 5 (eight heads, as the
  default), their margins averaged.
``variants.<split>.auc_<variant>``, ``..._minus_default`` and ``..._minus_default_se`` are
means over the draws; a lead inside about two standard errors is noise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import torch

from bench.bench_strength import (
    FLIP_SEEDS,
    FLIP_SHARE,
    _auc,
    _paired_bootstrap_se,
)
from bench.real_pairs import (
    CACHE,
    MAX_LENGTH,
    Features,
    features_as_stored,
    hh_test_pairs,
    offline_encoder,
)
from webapp.imports.formats import ParsedPair
from workers.rm import Encoder, EnsembleConfig, train_ensemble
from workers.rm.device import length_sorted_batches, pad_batch
from workers.rm.text import response_text, rm_texts, tokenize_left

Figures = Callable[[str, float, str], None]
NEEDS_SHARED_DATA = True
LAYERS = EnsembleConfig().encoder_layers


def _response_pooled(encoder: Encoder, texts: list[str], responses: list[str]) -> np.ndarray:
    """Each text's chosen layers mean-pooled over its response's tokens only, normalised."""
    tokenizer, model = encoder.tokenizer, encoder.model
    ids = tokenize_left(tokenizer=tokenizer, texts=texts, max_length=MAX_LENGTH)
    alone = tokenize_left(
        tokenizer=tokenizer, texts=responses, max_length=MAX_LENGTH, add_special_tokens=False
    )
    tails = [len(t) for t in alone]
    out = np.empty((len(texts), model.config.hidden_size * len(LAYERS)), dtype=np.float32)
    pad = tokenizer.pad_token_id or 0
    with torch.inference_mode():
        for batch in length_sorted_batches([len(r) for r in ids], batch_size=64):
            input_ids, mask = pad_batch([ids[i] for i in batch], pad_id=pad, device=encoder.device)
            states = model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True)
            tail = torch.zeros_like(mask, dtype=torch.float32)
            for row, i in enumerate(batch):
                end = len(ids[i]) - 1  # the closing [SEP]
                start = max(1, end - max(1, tails[i]))
                tail[row, start:end] = 1.0
            parts = []
            for layer in LAYERS:
                hidden = states.hidden_states[layer].to(torch.float32)
                pooled = (hidden * tail.unsqueeze(-1)).sum(1) / tail.sum(1, keepdim=True)
                parts.append(torch.nn.functional.normalize(pooled, dim=-1))
            out[batch] = torch.cat(parts, dim=1).cpu().numpy()
    return out


def _response_pool_features(
    pairs: Sequence[ParsedPair], base: Features, encoder: Encoder
) -> Features:
    chosen = [p.response_a for p in pairs]
    rejected = [p.response_b for p in pairs]
    prompts = [p.prompt for p in pairs]
    texts = rm_texts(prompts=prompts, responses=chosen)
    texts += rm_texts(prompts=prompts, responses=rejected)
    key = hashlib.sha256("\n\0".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"response-pool-{MAX_LENGTH}-{key}.npy"
    if path.is_file():
        vectors = np.load(path)
    else:
        responses = [response_text(r) for r in chosen + rejected]
        vectors = _response_pooled(encoder, texts, responses)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    n, half = len(pairs), base.chosen.shape[1] // 2
    return Features(
        np.hstack([vectors[:n], base.chosen[:, half:]]),
        np.hstack([vectors[n:], base.rejected[:, half:]]),
        base.same_text,
    )


def _margins(chosen: np.ndarray, rejected: np.ndarray, config: EnsembleConfig) -> np.ndarray:
    return train_ensemble(chosen=chosen, rejected=rejected, config=config).margins


def _variant_mu(name: str, chosen: np.ndarray, rejected: np.ndarray) -> np.ndarray:
    config = EnsembleConfig()
    if name == "quadratic":
        return _margins(np.hstack([chosen, chosen**2]), np.hstack([rejected, rejected**2]),
                        config).mean(axis=1)  # fmt: skip
    if name == "mixed_views":
        width = chosen.shape[1] // 4  # context L3, context L5, response L3, response L5
        part = EnsembleConfig(n_models=config.n_models // 4, seed=config.seed)
        members = [
            _margins(chosen[:, k * width : (k + 1) * width],
                     rejected[:, k * width : (k + 1) * width], part)
            for k in range(4)
        ]  # fmt: skip
        return np.hstack(members).mean(axis=1)
    return _margins(chosen, rejected, config).mean(axis=1)


def report(figures: Figures, name: str, variants: dict[str, Features]) -> None:
    base = variants["default"]
    rows = np.flatnonzero(~base.same_text)
    results: dict[str, list[tuple[float, float, float]]] = {v: [] for v in variants}
    for seed in FLIP_SEEDS:
        n = len(rows)
        flipped = np.zeros(n, dtype=bool)
        flipped[np.random.default_rng(seed).choice(n, round(FLIP_SHARE * n), replace=False)] = True
        mus: dict[str, np.ndarray] = {}
        for variant, data in variants.items():
            data = data.take(rows)
            chosen = np.where(flipped[:, None], data.rejected, data.chosen)
            rejected = np.where(flipped[:, None], data.chosen, data.rejected)
            mus[variant] = _variant_mu("default" if variant == "response_pool" else variant,
                                       chosen, rejected)  # fmt: skip
        for variant, mu in mus.items():
            lead = _auc(flipped, -mu) - _auc(flipped, -mus["default"])
            se = (
                0.0 if variant == "default" else _paired_bootstrap_se(flipped, -mu, -mus["default"])
            )
            results[variant].append((_auc(flipped, -mu), lead, se))
    for variant, values in results.items():
        table = np.asarray(values, dtype=np.float64)  # (draws, [auc, lead, se])
        prefix = f"variants.{name}.auc_{variant}"
        figures(prefix, float(table[:, 0].mean()), "")
        if variant != "default":
            # the draws flip different pairs: their bootstrap errors add as independent ones
            se_of_mean = float(np.sqrt((table[:, 2] ** 2).sum()) / len(table))
            figures(f"{prefix}_minus_default", float(table[:, 1].mean()), "")
            figures(f"{prefix}_minus_default_se", se_of_mean, "")


def run(figures: Figures) -> None:
    encoder, cache = offline_encoder()
    layered = encoder.with_layers(LAYERS)
    for name in ("helpful", "harmless"):
        pairs = hh_test_pairs(f"{name}-base")
        base = features_as_stored(pairs, encoder=encoder, cache=cache)
        variants = {
            "default": base,
            "response_pool": _response_pool_features(pairs, base, layered),
            "quadratic": base,
            "mixed_views": base,
        }
        report(figures, name, variants)
