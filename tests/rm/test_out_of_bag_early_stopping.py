"""Each bootstrapped head keeps the epoch that did best on its out-of-bag pairs."""

from __future__ import annotations

import numpy as np

from tests.rm.helpers import planted_pairs
from workers.rm import EnsembleConfig, train_ensemble
from workers.rm.ensemble import plan_heads


def test_out_of_bag_pairs_are_neither_in_the_bag_nor_scored_by_the_head() -> None:
    plan = plan_heads(n_pairs=300, n_models=4, n_folds=5, mode="oof", bootstrap=True, seed=3)
    assert plan.fold is not None
    for head in range(20):
        own_fold = plan.fold == head // 4
        assert not plan.out_of_bag[head, own_fold].any()
        assert not plan.out_of_bag[head, plan.weights[head] > 0].any()
        # about e^-1 of the training folds' pairs are left out of a resample
        assert 0.28 < plan.out_of_bag[head, ~own_fold].mean() < 0.46
    unbagged = plan_heads(n_pairs=300, n_models=4, n_folds=5, mode="oof", bootstrap=False, seed=3)
    assert not unbagged.out_of_bag.any()


def test_heads_stop_early_on_labels_that_carry_no_signal_and_not_on_a_learnable_task() -> None:
    rng = np.random.default_rng(7)
    # 64 dims, 200 pairs, random labels: the training loss keeps falling by memorising noise.
    noise_chosen = rng.standard_normal((200, 64)).astype(np.float32)
    noise_rejected = rng.standard_normal((200, 64)).astype(np.float32)
    config = EnsembleConfig(n_models=4, n_folds=4, epochs=100, lr=1e-2)
    noise = train_ensemble(chosen=noise_chosen, rejected=noise_rejected, config=config)
    epochs = noise.train_loss.shape[1]  # at least the trainer's minimum number of steps
    assert (noise.train_loss[:, -1] < noise.train_loss[:, 0]).all()
    assert np.median(noise.kept_epoch) < epochs / 2

    chosen, rejected = planted_pairs(n_pairs=600, dim=8, seed=8)
    task = train_ensemble(chosen=chosen, rejected=rejected, config=config)
    assert np.median(task.kept_epoch) > 0.8 * task.train_loss.shape[1]
    assert (task.mu > 0).mean() > 0.9

    kept_last = train_ensemble(
        chosen=noise_chosen,
        rejected=noise_rejected,
        config=EnsembleConfig(n_models=4, n_folds=4, epochs=100, lr=1e-2, early_stopping=False),
    )
    assert (kept_last.kept_epoch == epochs - 1).all()
