"""The Bradley-Terry reward loss, the one every reward model in PrefLab trains with.

    d    = r(chosen) - r(rejected) - m
    loss = -logsigmoid(d)                                   per pair
         = -(1 - a) * logsigmoid(d) - a * logsigmoid(-d)    with label smoothing a

and, reduced to the mean over the batch, TRL's optional reward centring is added:
center_rewards_coefficient * mean((r(chosen) + r(rejected)) ** 2). Without smoothing this is
TRL's RewardTrainer loss (trl/trainer/reward_trainer.py, compute_loss), margin included.
Label smoothing is PrefLab's: a is the probability that the label is wrong, so the loss is the
log-likelihood of both outcomes and its optimum sits where sigmoid(d) = 1 - a, not at infinity.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F


def bradley_terry_loss(
    *,
    r_chosen: torch.Tensor,
    r_rejected: torch.Tensor,
    margin: torch.Tensor | float = 0.0,
    smoothing: torch.Tensor | float | None = None,
    center_rewards_coefficient: float | None = None,
    reduction: Literal["mean", "none"] = "mean",
) -> torch.Tensor:
    """The loss of a batch of pairs (see the module docstring).

    r_chosen, r_rejected: (B,) rewards of one model, or (B, H) of H heads; margin and smoothing:
    floats or per-pair tensors that broadcast against them ((B, 1) for heads). reduction="none"
    gives the loss of each pair (and head), for callers that weight pairs themselves; reward
    centring is a term of the batch mean, so it needs reduction="mean".
    """
    d = r_chosen - r_rejected - margin
    loss = -F.logsigmoid(d)
    if smoothing is not None:
        loss = (1.0 - smoothing) * loss - smoothing * F.logsigmoid(-d)
    if reduction == "none":
        if center_rewards_coefficient is not None:
            raise ValueError("reward centring is a term of the mean: use reduction='mean'")
        return loss
    mean = loss.mean()
    if center_rewards_coefficient is not None:
        mean = mean + center_rewards_coefficient * torch.mean((r_chosen + r_rejected) ** 2)
    return mean
