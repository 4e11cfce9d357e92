"""Behaviour 2: out-of-fold margins never come from a model that saw the pair."""

from __future__ import annotations

import numpy as np

from tests.rm.helpers import planted_pairs
from workers.rm import EnsembleConfig, train_ensemble

CONFIG = EnsembleConfig(n_models=3, n_folds=4, epochs=2)


def test_no_pair_is_scored_by_a_head_that_trained_on_it() -> None:
    chosen, rejected = planted_pairs(n_pairs=120, dim=16, seed=1)
    result = train_ensemble(chosen=chosen, rejected=rejected, config=CONFIG)
    assert result.fold is not None and result.scored_by is not None
    assert result.trained_on is not None
    assert result.trained_on.shape == (12, 120)
    pair = np.arange(120)[:, None]
    assert not result.trained_on[result.scored_by, pair].any()
    # The M heads of a pair's own fold score it, and each trained on every other fold.
    assert (result.scored_by // CONFIG.n_models == result.fold[:, None]).all()
    for head in range(12):
        other_folds = result.fold != head // CONFIG.n_models
        # bootstrap: about 63% of the other folds' pairs, less those that label-noise cleaning
        # left out (EnsembleConfig.denoise_share), none of its own fold
        assert 0.4 < result.trained_on[head, other_folds].mean() < 0.75


def test_flipping_a_pair_leaves_the_heads_that_score_it_unchanged() -> None:
    chosen, rejected = planted_pairs(n_pairs=120, dim=16, seed=2)
    before = train_ensemble(chosen=chosen, rejected=rejected, config=CONFIG)
    flipped_chosen, flipped_rejected = chosen.copy(), rejected.copy()
    flipped_chosen[7], flipped_rejected[7] = rejected[7], chosen[7]
    after = train_ensemble(chosen=flipped_chosen, rejected=flipped_rejected, config=CONFIG)

    # Pair 7's scorers never saw it, so they are the same models: its margins only change sign.
    np.testing.assert_allclose(after.margins[7], -before.margins[7], rtol=1e-5, atol=1e-6)
    # The flip did reach the other folds' heads, which trained on pair 7.
    others = after.fold != after.fold[7]
    assert not np.allclose(after.margins[others], before.margins[others])


def test_in_sample_heads_do_see_the_pair_they_score() -> None:
    chosen, rejected = planted_pairs(n_pairs=120, dim=16, seed=2)
    config = EnsembleConfig(n_models=3, mode="insample", epochs=2)
    before = train_ensemble(chosen=chosen, rejected=rejected, config=config)
    flipped_chosen, flipped_rejected = chosen.copy(), rejected.copy()
    flipped_chosen[7], flipped_rejected[7] = rejected[7], chosen[7]
    after = train_ensemble(chosen=flipped_chosen, rejected=flipped_rejected, config=config)

    assert before.fold is None
    assert not np.allclose(after.margins[7], -before.margins[7], rtol=1e-5, atol=1e-6)
