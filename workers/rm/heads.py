"""Reward heads on frozen embeddings, and the Bradley-Terry loss.

H heads are one module with stacked weights, so every optimiser step trains all of them with a
single einsum. Adam's state is per parameter element, so stacked heads train exactly as if
each had its own optimiser: nothing is shared but the order in which pairs are visited.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def bradley_terry_loss(
    *, r_chosen: torch.Tensor, r_rejected: torch.Tensor, margin: torch.Tensor | float = 0.0
) -> torch.Tensor:
    """Negative log-likelihood that chosen beats rejected, per pair and head.

    r_chosen, r_rejected: (B, H) rewards of H heads (or (B,) of one model); margin: a float or a
    per-pair tensor that broadcasts against them, (B, 1) for heads.
    """
    return -F.logsigmoid(r_chosen - r_rejected - margin)


class RewardHeads(nn.Module):
    """H independent reward functions r_h(x) of a D-dim embedding x, evaluated together.

    hidden == 0: linear, r_h(x) = w_h . x (a bias would cancel in every r_c - r_r).
    hidden > 0: one ReLU layer, r_h(x) = v_h . relu(W_h x + b_h).
    """

    def __init__(self, *, dim: int, hidden: int, seeds: Sequence[int]) -> None:
        super().__init__()
        self.hidden = hidden
        n_heads = len(seeds)
        # One generator per head: head h starts the same whatever the other heads are.
        generators = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
        if hidden == 0:
            self.weight = nn.Parameter(
                torch.stack([torch.randn(dim, generator=g) for g in generators]) / dim**0.5
            )
            return
        self.w_in = nn.Parameter(
            torch.stack([torch.randn(dim, hidden, generator=g) for g in generators])
            * (2.0 / dim) ** 0.5
        )
        self.b_in = nn.Parameter(torch.zeros(n_heads, hidden))
        self.w_out = nn.Parameter(
            torch.stack([torch.randn(hidden, generator=g) for g in generators]) / hidden**0.5
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D) embeddings -> (B, H) rewards."""
        if self.hidden == 0:
            return torch.einsum("bd,hd->bh", x, self.weight)
        activations = torch.relu(torch.einsum("bd,hdk->bhk", x, self.w_in) + self.b_in)
        return torch.einsum("bhk,hk->bh", activations, self.w_out)
