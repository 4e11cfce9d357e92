"""Pairs of text in, ensemble result out: build texts, embed through the cache, train heads."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workers.rm.cache import EmbeddingLookup, EmbeddingSource
from workers.rm.config import EnsembleConfig, FeatureMode
from workers.rm.encoder import Encoder
from workers.rm.ensemble import train_ensemble
from workers.rm.progress import CancelCheck, StepProgress
from workers.rm.result import EnsembleResult
from workers.rm.text import Prompt, response_text, rm_texts


def pair_texts(
    *,
    prompts: Sequence[Prompt],
    chosen: Sequence[str],
    rejected: Sequence[str],
    features: FeatureMode = "context",
) -> list[str]:
    """Every text embed_pairs encodes for these pairs, in its row order: context chosen,
    context rejected, then (features="context+response") response chosen, response rejected.
    A sharded scoring run encodes these ahead of embed_pairs, which then finds them stored."""
    if features not in ("context", "context+response"):
        raise ValueError(f"unknown features {features!r}")
    texts = rm_texts(prompts=prompts, responses=chosen) + rm_texts(
        prompts=prompts, responses=rejected
    )
    if features == "context+response":
        texts += [response_text(r) for r in chosen] + [response_text(r) for r in rejected]
    return texts


def embed_pairs(
    *,
    prompts: Sequence[Prompt],
    chosen: Sequence[str],
    rejected: Sequence[str],
    encoder: EmbeddingSource,
    cache: EmbeddingLookup | None = None,
    features: FeatureMode = "context",
    layers: Sequence[int] = (),
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) embeddings of text(prompt, chosen) and of text(prompt, rejected); with
    features="context+response", (N, 2D): the embedding of the response alone appended.

    layers: hidden layers to pool (EnsembleConfig.encoder_layers), asked of an Encoder through
    `with_layers`; empty, or a source without layers (a stand-in), gives the source as it is."""
    if layers and isinstance(encoder, Encoder):
        encoder = encoder.with_layers(layers)
    texts = pair_texts(prompts=prompts, chosen=chosen, rejected=rejected, features=features)

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total, "embedding texts")

    if cache is None:
        vectors = encoder.encode(texts, progress=report, cancel=cancel)
    else:
        vectors = cache.get_or_compute(texts, encoder, progress=report, cancel=cancel)
    # rows: context chosen, context rejected, then response chosen, response rejected
    n = len(chosen)
    if features == "context":
        return vectors[:n], vectors[n : 2 * n]
    return (
        np.hstack([vectors[:n], vectors[2 * n : 3 * n]]),
        np.hstack([vectors[n : 2 * n], vectors[3 * n :]]),
    )


def score_pairs(
    *,
    prompts: Sequence[Prompt],
    chosen: Sequence[str],
    rejected: Sequence[str],
    encoder: EmbeddingSource,
    config: EnsembleConfig | None = None,
    cache: EmbeddingLookup | None = None,
    pair_margin: np.ndarray | None = None,
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> EnsembleResult:
    if not len(prompts) == len(chosen) == len(rejected):
        raise ValueError("prompts, chosen and rejected must have the same length")
    config = config if config is not None else EnsembleConfig()
    x_chosen, x_rejected = embed_pairs(
        prompts=prompts,
        chosen=chosen,
        rejected=rejected,
        encoder=encoder,
        cache=cache,
        features=config.features,
        layers=config.encoder_layers,
        progress=progress,
        cancel=cancel,
    )
    return train_ensemble(
        chosen=x_chosen,
        rejected=x_rejected,
        config=config,
        pair_margin=pair_margin,
        progress=progress,
        cancel=cancel,
    )
