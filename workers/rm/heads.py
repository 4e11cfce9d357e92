"""Reward heads on frozen embeddings (trained with loss.bradley_terry_loss).

H heads are one module with stacked weights, so every optimiser step trains all of them with a
single einsum. Adam's state is per parameter element, so stacked heads train exactly as if
each had its own optimiser: nothing is shared but the order in which pairs are visited.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


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
