"""Behaviour 8: flag rules on hand-made arrays with hand-checked answers."""

from __future__ import annotations

import numpy as np
import pytest

from workers.rm import FlagConfig, binned_sigma, compute_flags, strength_deciles

# Ten pairs, four models each. Row means (mu) are 2, 2, 2, 2, 2, 0, 0.05, -2, -2, -6:
#   pair 7: mu -2, all four models negative              -> likely mislabelled
#   pair 8: mu -2, but only 2 of 4 models negative        -> not mislabelled (share 0.5)
#   pair 9: mu -6, 3 of 4 models negative, sigma largest  -> mislabelled and unstable
#   pairs 5, 6: |mu| <= 0.05                              -> ambiguous
MARGINS = np.array(
    [
        [2, 2, 2, 2],
        [2, 2, 2, 2],
        [2, 2, 2, 2],
        [1, 3, 1, 3],
        [2, 2, 2, 2],
        [0, 0, 0, 0],
        [0.05, 0.05, 0.05, 0.05],
        [-2, -2, -2, -2],
        [-9, -9, 5, 5],
        [-12, -12, -12, 12],
    ],
    dtype=np.float32,
)
MU = np.array([2, 2, 2, 2, 2, 0, 0.05, -2, -2, -6])


def test_mislabelled_ambiguous_and_unstable_by_hand() -> None:
    spread = MU.std()  # sqrt(64.0025 / 10 - 0.005 ** 2) = 2.5299
    assert spread == pytest.approx(2.5299, abs=1e-4)
    flags = compute_flags(margins=MARGINS)
    # mu < -0.5 * 2.53 = -1.265 and >= 75% of models negative
    assert np.flatnonzero(flags.likely_mislabelled).tolist() == [7, 9]
    # |mu| < 0.1 * 2.53 = 0.253
    assert np.flatnonzero(flags.ambiguous).tolist() == [5, 6]
    # sigmas: 0 x3, 1, 0, 0, 0, 0, 7, 10.39; the 90% quantile lies between 7 and 10.39
    assert np.flatnonzero(flags.unstable).tolist() == [9]
    assert flags.thresholds["mislabel_below"] == pytest.approx(-0.5 * spread, rel=1e-5)
    assert not flags.human_vs_ensemble.any() and not flags.degenerate.any()
    assert not flags.duplicate_conflict.any()


def test_thresholds_are_configurable() -> None:
    flags = compute_flags(margins=MARGINS, config=FlagConfig(mislabel_share=0.5, ambiguous_std=0))
    assert np.flatnonzero(flags.likely_mislabelled).tolist() == [7, 8, 9]
    assert not flags.ambiguous.any()


def test_human_majority_against_the_sign_of_mu() -> None:
    agreement = np.array([0.2, 0.5, 0.9, np.nan, 1, 1, 1, 0.9, 0.3, 1])
    flags = compute_flags(margins=MARGINS, human_agreement=agreement)
    # pair 0: humans mostly prefer rejected but mu > 0; pairs 7, 9: humans agree, mu < 0;
    # pair 1 is a tie, pair 3 has no votes, pair 5 has mu == 0, pair 8 both say "rejected".
    assert np.flatnonzero(flags.human_vs_ensemble).tolist() == [0, 7, 9]


def test_degenerate_and_duplicate_conflicts_from_precomputed_arrays() -> None:
    same_text = np.zeros(10, dtype=bool)
    same_text[4] = True
    group = np.array([-1, 0, 0, 1, 1, 1, 2, -1, -1, 2])
    chosen_id = np.array([5, 10, 10, 20, 21, 20, 30, 5, 6, 30])
    flags = compute_flags(
        margins=MARGINS, same_text=same_text, duplicate_group=group, chosen_id=chosen_id
    )
    assert np.flatnonzero(flags.degenerate).tolist() == [4]
    # group 1 stores response 20 as chosen twice and response 21 once: all three conflict;
    # ungrouped pairs 0, 7, 8 (-1) never do, whatever their chosen ids.
    assert np.flatnonzero(flags.duplicate_conflict).tolist() == [3, 4, 5]


def test_arrays_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        compute_flags(margins=MARGINS, same_text=np.zeros(3, dtype=bool))


def test_strength_deciles_by_rank() -> None:
    mu = np.array([5.0, -1.0, 3.0, 0.0, 2.0, -4.0, 1.0, 4.0, -2.0, -3.0] * 2)
    deciles = strength_deciles(mu)
    assert deciles.min() == 0 and deciles.max() == 9
    assert np.bincount(deciles).tolist() == [2] * 10
    assert deciles[np.argmin(mu)] == 0 and deciles[np.argmax(mu)] == 9
    assert (np.diff(deciles[np.argsort(mu, kind="stable")]) >= 0).all()


def test_binned_sigma_for_the_chart() -> None:
    mu = np.array([3.0, 1.0, 2.0, 0.0, 5.0, 4.0])
    sigma = np.array([30.0, 10.0, 20.0, 0.0, 50.0, 40.0])
    bins = binned_sigma(mu, sigma, groups=3)
    assert bins.count.tolist() == [2, 2, 2]
    assert bins.mu_mean.tolist() == [0.5, 2.5, 4.5]
    assert bins.sigma_mean.tolist() == [5.0, 25.0, 45.0]
    assert bins.mu_low.tolist() == [0.0, 2.0, 4.0] and bins.mu_high.tolist() == [1.0, 3.0, 5.0]
    assert binned_sigma(mu, sigma, groups=20).count.sum() == 6  # fewer pairs than groups
