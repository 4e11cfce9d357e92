"""EnsembleConfig.denoise_share: round two leaves out training pairs the out-of-bag vote
contradicts, and out-of-fold scores still never come from a model that saw the pair."""

from __future__ import annotations

import numpy as np
import pytest

from tests.rm.helpers import planted_pairs
from workers.rm import EnsembleConfig, train_ensemble


def _noisy(n_pairs: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    chosen, rejected = planted_pairs(n_pairs=n_pairs, dim=16, seed=seed)
    flipped = np.zeros(n_pairs, dtype=bool)
    rows = np.random.default_rng(seed).choice(n_pairs, size=int(share * n_pairs), replace=False)
    flipped[rows] = True
    noisy_chosen = np.where(flipped[:, None], rejected, chosen)
    noisy_rejected = np.where(flipped[:, None], chosen, rejected)
    return noisy_chosen, noisy_rejected, flipped


def test_round_two_leaves_out_mostly_the_mislabelled_training_pairs() -> None:
    chosen, rejected, flipped = _noisy(800, 0.15, seed=11)
    base = dict(n_models=4, n_folds=4, lr=3e-2)
    plain = train_ensemble(
        chosen=chosen, rejected=rejected, config=EnsembleConfig(**base, denoise_share=0.0)
    )
    cleaned = train_ensemble(
        chosen=chosen, rejected=rejected, config=EnsembleConfig(**base, denoise_share=0.15)
    )
    assert plain.trained_on is not None and cleaned.trained_on is not None
    assert cleaned.scored_by is not None
    # Same seeds, same bootstrap: round two only removes pairs from a head's sample.
    assert not (cleaned.trained_on & ~plain.trained_on).any()
    left_out = plain.trained_on & ~cleaned.trained_on
    assert 0.05 < left_out.sum() / plain.trained_on.sum() < 0.15
    assert left_out[:, flipped].mean() > 5 * left_out[:, ~flipped].mean()
    # Still out-of-fold: no pair is scored by a head that trained on it, in either round.
    pair = np.arange(len(chosen))[:, None]
    assert not plain.trained_on[cleaned.scored_by, pair].any()
    assert (cleaned.mu[flipped] < 0).mean() > 0.8


def test_denoise_share_must_be_a_fraction() -> None:
    chosen, rejected, _ = _noisy(40, 0.1, seed=1)
    with pytest.raises(ValueError, match="denoise_share"):
        train_ensemble(chosen=chosen, rejected=rejected, config=EnsembleConfig(denoise_share=1))
