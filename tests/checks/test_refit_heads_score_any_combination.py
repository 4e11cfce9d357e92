"""The refit ensemble is a reward function: it learns the preference from pair features and
scores (prompt, response) features no pair held."""

from __future__ import annotations

import numpy as np

from workers.rm.checks import fit_reward_ensemble
from workers.rm.config import EnsembleConfig


def test_heads_learn_the_preferred_direction_and_score_new_rows() -> None:
    rng = np.random.default_rng(0)
    n, dim = 200, 8
    rejected = rng.normal(size=(n, dim)).astype(np.float32)
    chosen = rejected.copy()
    chosen[:, 0] += 1.0  # the preferred response is one unit further along dimension 0
    model = fit_reward_ensemble(
        chosen=chosen, rejected=rejected, config=EnsembleConfig(n_models=3, epochs=2)
    )
    assert (model.rewards(chosen) > model.rewards(rejected)).mean() > 0.95
    # rows no pair held: reward rises along dimension 0, whatever the rest
    fresh = rng.normal(size=(50, dim)).astype(np.float32)
    shifted = fresh.copy()
    shifted[:, 0] += 2.0
    assert (model.rewards(shifted) > model.rewards(fresh)).all()
    assert model.config.mode == "insample" and model.heads.weight.shape == (3, dim)
