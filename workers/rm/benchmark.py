"""Reward models on pairs they never saw: the ensemble trained on one set of pairs, scoring
another (a benchmark), and the accuracy figures benchmarks report.

The ensemble here is the scoring run's heads trained again in-sample on all of the project's
labelled pairs (as the consistency checks refit them, checks/contrast.py), then asked for
r(prompt, A) - r(prompt, B) on each benchmark pair: the ensemble as it would be used on new
data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workers.rm.cache import EmbeddingCache, EmbeddingSource
from workers.rm.checks.contrast import fit_reward_ensemble
from workers.rm.config import EnsembleConfig
from workers.rm.pipeline import embed_pairs
from workers.rm.text import Prompt


def ensemble_transfer_margins(
    *,
    train_prompts: Sequence[Prompt],
    train_chosen: Sequence[str],
    train_rejected: Sequence[str],
    prompts: Sequence[Prompt],
    response_a: Sequence[str],
    response_b: Sequence[str],
    encoder: EmbeddingSource,
    config: EnsembleConfig,
    cache: EmbeddingCache | None = None,
) -> np.ndarray:
    """(N,) mean-head margins r(A) - r(B) on the N new pairs, heads trained on the others."""
    x_chosen, x_rejected = embed_pairs(
        prompts=train_prompts, chosen=train_chosen, rejected=train_rejected, encoder=encoder,
        cache=cache, features=config.features, layers=config.encoder_layers,
    )  # fmt: skip
    model = fit_reward_ensemble(chosen=x_chosen, rejected=x_rejected, config=config)
    x_a, x_b = embed_pairs(
        prompts=prompts, chosen=response_a, rejected=response_b, encoder=encoder, cache=cache,
        features=config.features, layers=config.encoder_layers,
    )  # fmt: skip
    return model.rewards(x_a) - model.rewards(x_b)


def correct(margins: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """(N,) 1 where the margin r(A) - r(B) points at the labelled response, 0.5 on a tie of
    the two rewards (a coin would be right half the time), 0 otherwise."""
    m = np.asarray(margins, dtype=np.float64)
    sign = np.where(np.asarray(labels) == "a", 1.0, -1.0)
    return np.where(m * sign > 0, 1.0, np.where(m == 0, 0.5, 0.0))
