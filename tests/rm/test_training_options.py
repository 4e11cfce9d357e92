"""Progress, cancellation, per-pair margins and MLP heads of the head trainer."""

from __future__ import annotations

import numpy as np
import pytest

from tests.rm.helpers import planted_pairs
from workers.rm import Cancelled, EnsembleConfig, train_ensemble


def test_progress_reaches_the_total_and_cancel_stops_training() -> None:
    chosen, rejected = planted_pairs(n_pairs=100, dim=8, seed=4)
    reports: list[tuple[int, int, str]] = []
    train_ensemble(
        chosen=chosen,
        rejected=rejected,
        config=EnsembleConfig(n_models=2, n_folds=2),
        progress=lambda done, total, message: reports.append((done, total, message)),
    )
    done, total, message = reports[-1]
    assert done == total and "heads" in message
    assert [r[0] for r in reports] == sorted(r[0] for r in reports)

    calls: list[int] = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) >= 3

    with pytest.raises(Cancelled):
        train_ensemble(chosen=chosen, rejected=rejected, cancel=cancel)
    assert len(calls) == 3


def test_a_per_pair_margin_asks_for_a_wider_gap() -> None:
    chosen, rejected = planted_pairs(n_pairs=200, dim=8, seed=5)
    config = EnsembleConfig(n_models=2, mode="insample", lr=3e-2, weight_decay=0.0)
    plain = train_ensemble(chosen=chosen, rejected=rejected, config=config)
    wide = np.zeros(200, dtype=np.float32)
    wide[:100] = 3.0
    widened = train_ensemble(chosen=chosen, rejected=rejected, config=config, pair_margin=wide)
    # The loss only stops pushing once r_c - r_r passes the margin.
    assert widened.mu[:100].mean() > plain.mu[:100].mean() + 0.5
    with pytest.raises(ValueError, match="pair_margin"):
        train_ensemble(chosen=chosen, rejected=rejected, pair_margin=np.zeros(3))


def test_mlp_heads_learn_a_task_linear_heads_cannot() -> None:
    """Chosen is the response whose first coordinate is further from zero: not linear."""
    rng = np.random.default_rng(6)
    a = rng.standard_normal((600, 4)).astype(np.float32)
    b = rng.standard_normal((600, 4)).astype(np.float32)
    a_better = (np.abs(a[:, 0]) > np.abs(b[:, 0]))[:, None]
    chosen, rejected = np.where(a_better, a, b), np.where(a_better, b, a)
    base = EnsembleConfig(n_models=2, n_folds=3, lr=1e-2, epochs=30)
    linear = train_ensemble(chosen=chosen, rejected=rejected, config=base)
    mlp = train_ensemble(
        chosen=chosen,
        rejected=rejected,
        config=EnsembleConfig(n_models=2, n_folds=3, lr=1e-2, epochs=30, hidden=16),
    )
    assert (linear.mu > 0).mean() < 0.65
    assert (mlp.mu > 0).mean() > 0.85
