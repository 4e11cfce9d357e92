"""Ensemble result: per-pair margins of M models and the preference strength they give.

For pair i and model m, d_m = r_m(prompt, chosen) - r_m(prompt, rejected). The preference
strength is mu = mean_m d_m, its uncertainty sigma = population std of d_m over the M models,
and p_label = sigmoid(mu) the ensemble's probability that the stored label is right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class EnsembleResult:
    margins: np.ndarray  # (N, M) float32, d_m per pair and model
    mu: np.ndarray  # (N,) float32, mean over models
    sigma: np.ndarray  # (N,) float32, population std over models (ddof=0)
    p_label: np.ndarray  # (N,) float32, sigmoid(mu)
    # Mean pairwise Pearson correlation of the models' margin columns. Near 1 means the members
    # agree so closely that sigma carries no information.
    mean_model_correlation: float
    member_names: list[str]  # one per margins column
    seeds: list[int] = field(default_factory=list)  # per trained head
    # (H, epochs) bootstrap-weighted mean Bradley-Terry loss of each trained head, per epoch.
    train_loss: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    # (H,) epoch whose weights each trained head kept (early stopping on out-of-bag pairs).
    kept_epoch: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # Out-of-fold bookkeeping, so that "no pair scored by a model that saw it" can be checked:
    fold: np.ndarray | None = None  # (N,) fold of each pair; None in-sample
    scored_by: np.ndarray | None = None  # (N, M) head that produced margins[i, m]
    trained_on: np.ndarray | None = None  # (H, N) head h had pair i in its training sample
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def n_pairs(self) -> int:
        return int(self.margins.shape[0])


def margin_stats(margins: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mu, sigma, p_label) of an (N, M) margins array."""
    if margins.ndim != 2 or margins.shape[1] == 0:
        raise ValueError(f"margins must be (N, M) with M >= 1, got shape {margins.shape}")
    values = margins.astype(np.float64)
    mu = values.mean(axis=1)
    sigma = values.std(axis=1, ddof=0)
    # tanh form of the sigmoid: no overflow warning for large |mu|
    p_label = 0.5 * (1.0 + np.tanh(0.5 * mu))
    return mu.astype(np.float32), sigma.astype(np.float32), p_label.astype(np.float32)


def mean_model_correlation(margins: np.ndarray) -> float:
    """Mean off-diagonal Pearson correlation between columns; NaN with fewer than two usable
    (non-constant) columns."""
    values = margins.astype(np.float64)
    centred = values - values.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    usable = norms > 1e-12
    if usable.sum() < 2:
        return float("nan")
    unit = centred[:, usable] / norms[usable]
    corr = unit.T @ unit
    k = corr.shape[0]
    return float((corr.sum() - np.trace(corr)) / (k * (k - 1)))


def result_from_margins(
    *, margins: np.ndarray, member_names: list[str], **extras: Any
) -> EnsembleResult:
    margins = np.asarray(margins, dtype=np.float32)
    if len(member_names) != margins.shape[1]:
        raise ValueError(f"{len(member_names)} names for {margins.shape[1]} margin columns")
    if not np.isfinite(margins).all():
        raise ValueError("margins contain NaN or infinity")
    mu, sigma, p_label = margin_stats(margins)
    return EnsembleResult(
        margins=margins,
        mu=mu,
        sigma=sigma,
        p_label=p_label,
        mean_model_correlation=mean_model_correlation(margins),
        member_names=member_names,
        **extras,
    )
