"""Flag rules over ensemble margins: which pairs a reviewer should look at, and why.

Thresholds on mu are in units of std(mu), because the margins' scale depends on the members
(linear heads, MLP heads, full models, imported scores); a rule in those units means the same
thing for every ensemble.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from workers.rm.result import margin_stats


@dataclass(frozen=True)
class FlagConfig:
    # likely_mislabelled: mu < -mislabel_std * std(mu) and at least mislabel_share of the models
    # prefer the rejected response (d_m < 0). Half a std below zero is well past the ambiguous
    # band; the share rule stops one loud member from flagging a pair on its own.
    mislabel_std: float = 0.5
    mislabel_share: float = 0.75
    # ambiguous: |mu| < ambiguous_std * std(mu), the models see almost no preference.
    ambiguous_std: float = 0.1
    # unstable: sigma above this quantile of all sigmas (the top decile by default).
    unstable_quantile: float = 0.9

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PairFlags:
    """Boolean (N,) arrays, one per rule; a rule whose input was not given flags nothing."""

    likely_mislabelled: np.ndarray
    ambiguous: np.ndarray
    unstable: np.ndarray
    human_vs_ensemble: np.ndarray
    degenerate: np.ndarray
    duplicate_conflict: np.ndarray
    thresholds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: value for name, value in vars(self).items() if name != "thresholds"}


def compute_flags(
    *,
    margins: np.ndarray,
    config: FlagConfig | None = None,
    human_agreement: np.ndarray | None = None,
    same_text: np.ndarray | None = None,
    duplicate_group: np.ndarray | None = None,
    chosen_id: np.ndarray | None = None,
) -> PairFlags:
    """Flags for N pairs from their (N, M) ensemble margins and optional precomputed arrays.

    human_agreement: share of human votes that agree with the stored label, NaN for no votes.
    same_text: chosen text == rejected text.
    duplicate_group, chosen_id: pairs with the same group id (>= 0) are the same prompt and the
    same two responses; chosen_id names the response stored as chosen. A group whose pairs name
    different chosen responses contradicts itself.
    """
    config = config if config is not None else FlagConfig()
    mu, sigma, _ = margin_stats(margins)
    n_pairs = len(mu)
    spread = float(mu.std())
    mislabel_below = -config.mislabel_std * spread
    ambiguous_within = config.ambiguous_std * spread
    unstable_above = float(np.quantile(sigma, config.unstable_quantile))
    negative_share = (margins < 0).mean(axis=1)
    nothing = np.zeros(n_pairs, dtype=bool)
    return PairFlags(
        likely_mislabelled=(mu < mislabel_below) & (negative_share >= config.mislabel_share),
        ambiguous=np.abs(mu) < ambiguous_within,
        # strict: when all sigmas are equal (one member), nothing is unstable
        unstable=sigma > unstable_above,
        human_vs_ensemble=(
            _human_disagrees(mu=mu, agreement=_checked(human_agreement, n_pairs, float))
            if human_agreement is not None
            else nothing
        ),
        degenerate=(
            _checked(same_text, n_pairs, bool).copy() if same_text is not None else nothing.copy()
        ),
        duplicate_conflict=(
            _conflicting_duplicates(
                group=_checked(duplicate_group, n_pairs, np.int64),
                chosen=_checked(chosen_id, n_pairs, np.int64),
            )
            if duplicate_group is not None and chosen_id is not None
            else nothing.copy()
        ),
        thresholds={
            "mislabel_below": mislabel_below,
            "mislabel_share": config.mislabel_share,
            "ambiguous_within": ambiguous_within,
            "unstable_above": unstable_above,
        },
    )


def _checked(values: np.ndarray | None, n_pairs: int, dtype: Any) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    if array.shape != (n_pairs,):
        raise ValueError(f"expected an array of shape ({n_pairs},), got {array.shape}")
    return array


def _human_disagrees(*, mu: np.ndarray, agreement: np.ndarray) -> np.ndarray:
    # NaN compares False both ways: pairs without votes are never flagged; ties neither.
    return ((agreement < 0.5) & (mu > 0)) | ((agreement > 0.5) & (mu < 0))


def _conflicting_duplicates(*, group: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    grouped = group >= 0
    distinct = np.unique(np.stack([group[grouped], chosen[grouped]], axis=1), axis=0)
    groups, n_chosen = np.unique(distinct[:, 0], return_counts=True)
    return grouped & np.isin(group, groups[n_chosen > 1])


def strength_deciles(mu: np.ndarray) -> np.ndarray:
    """Decile 0 (weakest, most negative mu) to 9 (strongest) of each pair by rank of mu."""
    n_pairs = len(mu)
    ranks = np.empty(n_pairs, dtype=np.int64)
    ranks[np.argsort(mu, kind="stable")] = np.arange(n_pairs)
    return (ranks * 10 // max(n_pairs, 1)).astype(np.int64)


@dataclass
class SigmaBins:
    """Equal-count bins of pairs sorted by mu: the sigma-vs-mu chart."""

    mu_mean: np.ndarray
    mu_low: np.ndarray
    mu_high: np.ndarray
    sigma_mean: np.ndarray
    count: np.ndarray

    def to_dict(self) -> dict[str, list[float]]:
        return {name: value.tolist() for name, value in vars(self).items()}


def binned_sigma(mu: np.ndarray, sigma: np.ndarray, *, groups: int = 20) -> SigmaBins:
    if mu.shape != sigma.shape or mu.ndim != 1:
        raise ValueError(f"mu {mu.shape} and sigma {sigma.shape} must be equal 1-D shapes")
    order = np.argsort(mu, kind="stable")
    bins = [b for b in np.array_split(order, max(min(groups, len(order)), 1)) if len(b)]
    return SigmaBins(
        mu_mean=np.array([mu[b].mean() for b in bins], dtype=np.float64),
        mu_low=np.array([mu[b].min() for b in bins], dtype=np.float64),
        mu_high=np.array([mu[b].max() for b in bins], dtype=np.float64),
        sigma_mean=np.array([sigma[b].mean() for b in bins], dtype=np.float64),
        count=np.array([len(b) for b in bins], dtype=np.int64),
    )
