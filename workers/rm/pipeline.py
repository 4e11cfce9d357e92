"""Texts in, results out: build texts, embed through the cache, train heads.

Pairs give an ensemble result (`score_pairs`); rated responses give out-of-fold predictions
of every attribute (`score_attributes`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workers.rm.attributes import AttributeResult, fit_attributes
from workers.rm.cache import EmbeddingLookup, EmbeddingSource
from workers.rm.config import AttributeConfig, EnsembleConfig, FeatureMode
from workers.rm.encoder import Encoder
from workers.rm.ensemble import train_ensemble
from workers.rm.progress import CancelCheck, StepProgress
from workers.rm.result import EnsembleResult
from workers.rm.text import Prompt, response_text, rm_texts


def response_texts(
    *, prompts: Sequence[Prompt], responses: Sequence[str], features: FeatureMode = "context"
) -> list[str]:
    """Every text embed_responses encodes, in its row order: text(prompt, response) for each,
    then (features="context+response") each response alone."""
    if features not in ("context", "context+response"):
        raise ValueError(f"unknown features {features!r}")
    if len(prompts) != len(responses):
        raise ValueError("prompts and responses must have the same length")
    texts = rm_texts(prompts=prompts, responses=responses)
    if features == "context+response":
        texts += [response_text(r) for r in responses]
    return texts


def pair_texts(
    *,
    prompts: Sequence[Prompt],
    chosen: Sequence[str],
    rejected: Sequence[str],
    features: FeatureMode = "context",
) -> list[str]:
    """Every text embed_pairs encodes for these pairs. A sharded scoring run encodes them
    ahead of embed_pairs (webapp/scoring/shards.py), which then finds them all stored."""
    return response_texts(
        prompts=[*prompts, *prompts], responses=[*chosen, *rejected], features=features
    )


def embed_responses(
    *,
    prompts: Sequence[Prompt],
    responses: Sequence[str],
    encoder: EmbeddingSource,
    cache: EmbeddingLookup | None = None,
    features: FeatureMode = "context",
    layers: Sequence[int] = (),
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> np.ndarray:
    """(N, D) embeddings of text(prompt, response); with features="context+response", (N, 2D):
    the embedding of the response alone appended.

    layers: hidden layers to pool (EnsembleConfig.encoder_layers), asked of an Encoder through
    `with_layers`; empty, or a source without layers (a stand-in), gives the source as it is."""
    if layers and isinstance(encoder, Encoder):
        encoder = encoder.with_layers(layers)
    texts = response_texts(prompts=prompts, responses=responses, features=features)

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total, "embedding texts")

    if cache is None:
        vectors = encoder.encode(texts, progress=report, cancel=cancel)
    else:
        vectors = cache.get_or_compute(texts, encoder, progress=report, cancel=cancel)
    n = len(responses)
    if features == "context":
        return vectors[:n]
    return np.hstack([vectors[:n], vectors[n:]])


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
    """The `embed_responses` of the chosen and of the rejected responses, in one pass."""
    vectors = embed_responses(
        prompts=[*prompts, *prompts],
        responses=[*chosen, *rejected],
        encoder=encoder,
        cache=cache,
        features=features,
        layers=layers,
        progress=progress,
        cancel=cancel,
    )
    n = len(chosen)
    return vectors[:n], vectors[n:]


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


def score_attributes(
    *,
    prompts: Sequence[Prompt],
    responses: Sequence[str],
    ratings: np.ndarray,
    groups: np.ndarray,
    attributes: list[str],
    encoder: EmbeddingSource,
    config: AttributeConfig | None = None,
    cache: EmbeddingLookup | None = None,
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> AttributeResult:
    """Out-of-fold predictions of each attribute for N responses: (N, A) ratings (NaN where
    unrated), (N,) groups naming each response's prompt (see attributes.fit_attributes)."""
    config = config if config is not None else AttributeConfig()
    features = embed_responses(
        prompts=prompts,
        responses=responses,
        encoder=encoder,
        cache=cache,
        features=config.features,
        layers=config.encoder_layers,
        progress=progress,
        cancel=cancel,
    )
    return fit_attributes(
        features=features,
        ratings=ratings,
        groups=groups,
        attributes=attributes,
        config=config,
        progress=progress,
        cancel=cancel,
    )
