"""Cleaning recipes: what a training run does to each training pair's target before it trains.

The remedies of "Secrets of RLHF Part II" (Wang et al. 2024), on a pair's preference strength
mu (the mean margin of a scoring ensemble, positive when the ensemble agrees with the label):

    drop     leave out flagged pairs, and / or the bottom (top) x% of pairs by mu
    flip     swap chosen and rejected where mu < flip_below; the pair's strength becomes -mu
    smooth   loss -[(1 - a) log p + a log(1 - p)] instead of -log p, p = sigmoid(r_c - r_r - m),
             on every pair or only where mu < smooth_below
    margin   m = margin_lambda * mu inside the sigmoid, so strong pairs must be won by more

They combine in that order: drops see the original mu, flips change the sign of the mu that
smoothing and the margin then read. `apply_recipe` returns per-pair targets; the loss that
reads them is `loss.bradley_terry_loss`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RecipeConfig:
    """A cleaning recipe. The defaults change nothing (training on the labels as they are)."""

    # Leave out training pairs that carry a flag (which flags is the caller's choice).
    drop_flagged: bool = False
    # Leave out the training pairs whose mu is among the lowest (highest) x percent.
    drop_bottom_pct: float = 0.0
    drop_top_pct: float = 0.0
    # Flip the label of every kept pair with mu below this; None: flip nothing.
    flip_below: float | None = None
    # a, the weight label smoothing gives the other outcome (0 = plain Bradley-Terry).
    smoothing: float = 0.0
    # Smooth only pairs whose mu (after flips) is below this; None: smooth every pair.
    smooth_below: float | None = None
    # lambda of the adaptive margin m = lambda * mu (after flips); 0 = no margin.
    margin_lambda: float = 0.0

    def __post_init__(self) -> None:
        for name in ("drop_bottom_pct", "drop_top_pct"):
            value = getattr(self, name)
            if not 0.0 <= value < 100.0:
                raise ValueError(f"{name} must be in [0, 100), got {value}")
        if self.drop_bottom_pct + self.drop_top_pct >= 100.0:
            raise ValueError("drop_bottom_pct + drop_top_pct must leave some pairs")
        if not 0.0 <= self.smoothing < 0.5:
            raise ValueError(f"smoothing must be in [0, 0.5), got {self.smoothing}")

    @property
    def needs_strength(self) -> bool:
        """True when the recipe reads mu, so a scoring run must be chosen."""
        return bool(
            self.drop_bottom_pct
            or self.drop_top_pct
            or self.flip_below is not None
            or (self.smoothing and self.smooth_below is not None)
            or self.margin_lambda
        )

    def name(self) -> str:
        """A short human name, e.g. "flip mu<0 + margin 0.5"."""
        parts = []
        if self.drop_flagged:
            parts.append("drop flagged")
        if self.drop_bottom_pct:
            parts.append(f"drop bottom {self.drop_bottom_pct:g}%")
        if self.drop_top_pct:
            parts.append(f"drop top {self.drop_top_pct:g}%")
        if self.flip_below is not None:
            parts.append(f"flip mu<{self.flip_below:g}")
        if self.smoothing:
            where = f" on mu<{self.smooth_below:g}" if self.smooth_below is not None else ""
            parts.append(f"smooth {self.smoothing:g}{where}")
        if self.margin_lambda:
            parts.append(f"margin {self.margin_lambda:g}*mu")
        return " + ".join(parts) or "none"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Targets:
    """Per training pair: kept or not, label flipped or not, smoothing a, margin m."""

    keep: np.ndarray  # (N,) bool
    flipped: np.ndarray  # (N,) bool; only ever True where keep is
    smoothing: np.ndarray  # (N,) float32 a per pair
    margin: np.ndarray  # (N,) float32 m per pair
    strength: np.ndarray  # (N,) float32 mu as the trained label sees it (sign flipped if flipped)

    def counts(self) -> dict[str, int]:
        return {
            "pairs": len(self.keep),
            "kept": int(self.keep.sum()),
            "dropped": int((~self.keep).sum()),
            "flipped": int(self.flipped.sum()),
            "smoothed": int((self.keep & (self.smoothing > 0)).sum()),
            "with_margin": int((self.keep & (self.margin != 0)).sum()),
        }


def apply_recipe(
    *,
    recipe: RecipeConfig,
    n_pairs: int,
    mu: np.ndarray | None = None,
    flagged: np.ndarray | None = None,
) -> Targets:
    """The targets `recipe` gives N training pairs, from their mu (N,) and flags (N,) bool.

    Pairs without a strength (mu NaN: not in the scoring run) are never dropped, flipped or
    smoothed by strength, and get no margin.
    """
    if recipe.needs_strength and mu is None:
        raise ValueError(f"recipe {recipe.name()!r} reads mu: choose a scoring run")
    strength = (
        np.zeros(n_pairs, dtype=np.float64) if mu is None else np.asarray(mu, dtype=np.float64)
    )
    if strength.shape != (n_pairs,):
        raise ValueError(f"mu must be ({n_pairs},), got {strength.shape}")
    known = np.isfinite(strength)
    keep = np.ones(n_pairs, dtype=bool)
    if recipe.drop_flagged:
        if flagged is None or flagged.shape != (n_pairs,):
            raise ValueError(f"drop_flagged needs flags of shape ({n_pairs},)")
        keep &= ~flagged.astype(bool)
    if (recipe.drop_bottom_pct or recipe.drop_top_pct) and known.any():
        low, high = _band(strength[known], recipe.drop_bottom_pct, recipe.drop_top_pct)
        keep[known] &= (strength[known] >= low) & (strength[known] <= high)
    flipped = np.zeros(n_pairs, dtype=bool)
    if recipe.flip_below is not None:
        flipped = keep & known & (strength < recipe.flip_below)
    strength = np.where(flipped, -strength, strength)
    smoothing = np.zeros(n_pairs, dtype=np.float32)
    if recipe.smoothing:
        if recipe.smooth_below is None:
            smoothing[:] = recipe.smoothing
        else:
            smoothing[known & (strength < recipe.smooth_below)] = recipe.smoothing
    margin = np.where(known, recipe.margin_lambda * strength, 0.0).astype(np.float32)
    return Targets(
        keep=keep,
        flipped=flipped,
        smoothing=smoothing,
        margin=margin,
        strength=np.where(known, strength, np.nan).astype(np.float32),
    )


def _band(values: np.ndarray, bottom_pct: float, top_pct: float) -> tuple[float, float]:
    """Inclusive [low, high] of mu that keeps all but the bottom and top shares, by rank."""
    order = np.sort(values)
    n = len(order)
    first = int(np.floor(n * bottom_pct / 100.0))
    last = n - 1 - int(np.floor(n * top_pct / 100.0))
    if last < first:
        return np.inf, -np.inf
    return float(order[first]), float(order[last])
