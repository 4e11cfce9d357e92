"""The training loss is TRL's reward loss, label smoothing as its formula, centring as TRL's."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from workers.rm.loss import bradley_terry_loss as reward_loss
from workers.rm.training import TrainConfig, train_head

R_C = torch.tensor([1.0, -0.5, 2.0, 0.3])
R_R = torch.tensor([0.2, 0.4, -1.0, 0.3])


def test_without_smoothing_it_is_trl_compute_loss() -> None:
    margin = torch.tensor([0.0, 0.5, 1.0, 0.2])
    # trl/trainer/reward_trainer.py: -logsigmoid(r_c - r_r - margin).mean()
    # + center_rewards_coefficient * mean((r_c + r_r) ** 2)
    trl = -F.logsigmoid(R_C - R_R - margin).mean() + 0.01 * torch.mean((R_C + R_R) ** 2)
    ours = reward_loss(r_chosen=R_C, r_rejected=R_R, margin=margin, center_rewards_coefficient=0.01)
    assert torch.allclose(ours, trl)
    assert torch.allclose(
        reward_loss(r_chosen=R_C, r_rejected=R_R), -F.logsigmoid(R_C - R_R).mean()
    )


def test_label_smoothing_is_the_two_sided_log_likelihood() -> None:
    a = torch.tensor([0.1, 0.0, 0.2, 0.45])
    got = reward_loss(r_chosen=R_C, r_rejected=R_R, smoothing=a)
    expected = 0.0
    for rc, rr, ai in zip(R_C.tolist(), R_R.tolist(), a.tolist(), strict=True):
        p = 1 / (1 + math.exp(-(rc - rr)))
        expected += -((1 - ai) * math.log(p) + ai * math.log(1 - p))
    assert got.item() == pytest.approx(expected / 4, rel=1e-6)


def test_smoothing_stops_a_separable_head_from_growing_without_bound() -> None:
    rng = np.random.default_rng(0)
    direction = rng.standard_normal(8)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = rng.standard_normal((64, 8)).astype(np.float32)
    better = ((x - y) @ direction > 0)[:, None]
    c, r = np.where(better, x, y), np.where(better, y, x)
    config = TrainConfig(epochs=200, batch_size=64, lr=0.05, weight_decay=0.0)
    margins = {}
    for a in (0.0, 0.2):
        result = train_head(
            x_chosen=c, x_rejected=r, margin=np.zeros(64), smoothing=np.full(64, a),
            heldout_chosen=c, heldout_rejected=r, config=config,
        )  # fmt: skip
        margins[a] = float(np.abs(result.heldout_margins).mean())
    # the smoothed optimum sits where sigmoid(d) = 1 - a: |d| near log(4) = 1.39, not infinity
    assert margins[0.2] < margins[0.0]
    assert margins[0.2] < 3.0
