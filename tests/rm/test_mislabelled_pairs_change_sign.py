"""Behaviour 3: models that learned the task give a flipped (mislabelled) pair a negative mu."""

from __future__ import annotations

import numpy as np

from tests.rm.helpers import planted_pairs
from workers.rm import EnsembleConfig, compute_flags, train_ensemble

# The defaults are tuned for noisy real labels (fit gently); this clean task rewards fitting on.
CONFIG = EnsembleConfig(lr=3e-2)


def test_out_of_fold_mu_changes_sign_when_a_pair_is_mislabelled() -> None:
    chosen, rejected = planted_pairs(n_pairs=1000, dim=32, seed=3)
    flipped = np.random.default_rng(3).choice(1000, size=100, replace=False)
    noisy_chosen, noisy_rejected = chosen.copy(), rejected.copy()
    noisy_chosen[flipped], noisy_rejected[flipped] = rejected[flipped], chosen[flipped]

    clean = train_ensemble(chosen=chosen, rejected=rejected, config=CONFIG)
    noisy = train_ensemble(chosen=noisy_chosen, rejected=noisy_rejected, config=CONFIG)

    # Pairs with a near-zero true margin are coin flips even for a perfect model.
    assert (clean.mu > 0).mean() > 0.9
    # The same pairs, stored the wrong way round, now get a negative preference strength.
    assert (clean.mu[flipped] > 0).mean() > 0.85
    assert (noisy.mu[flipped] < 0).mean() > 0.8
    kept = np.setdiff1d(np.arange(1000), flipped)
    assert (noisy.mu[kept] > 0).mean() > 0.85

    flags = compute_flags(margins=noisy.margins)
    caught = flags.likely_mislabelled[flipped].mean()
    false_alarms = flags.likely_mislabelled[kept].mean()
    assert caught > 0.5
    assert false_alarms < 0.03
