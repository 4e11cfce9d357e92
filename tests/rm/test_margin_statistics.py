"""Behaviour 6: mu is the mean, sigma the population std, p = sigmoid(mu); members combine."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workers.rm import combine_members, margin_stats, mean_model_correlation

MARGINS = np.array([[1.0, 2.0, 3.0], [-1.0, -1.0, -1.0], [0.0, 4.0, -4.0]], dtype=np.float32)


def test_mu_sigma_and_p_against_numpy_and_by_hand() -> None:
    mu, sigma, p_label = margin_stats(MARGINS)
    np.testing.assert_allclose(mu, [2.0, -1.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(sigma, np.std(MARGINS, axis=1, ddof=0), rtol=1e-6)
    # by hand: population std of (1, 2, 3) is sqrt(2/3), of (0, 4, -4) sqrt(32/3)
    np.testing.assert_allclose(sigma, [math.sqrt(2 / 3), 0.0, math.sqrt(32 / 3)], rtol=1e-6)
    assert not np.allclose(sigma, np.std(MARGINS, axis=1, ddof=1))
    np.testing.assert_allclose(p_label, 1 / (1 + np.exp(-mu)), rtol=1e-6)
    assert p_label[2] == pytest.approx(0.5)


def test_p_label_is_finite_for_huge_margins() -> None:
    _, _, p_label = margin_stats(np.array([[800.0], [-800.0]]))
    np.testing.assert_array_equal(p_label, [1.0, 0.0])


def test_mean_model_correlation() -> None:
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert mean_model_correlation(np.stack([x, 2 * x + 1, x], axis=1)) == pytest.approx(1.0)
    assert mean_model_correlation(np.stack([x, -x], axis=1)) == pytest.approx(-1.0)
    # pairwise: corr(a, b) = 1, corr(a, -a) = corr(b, -a) = -1 -> mean -1/3
    assert mean_model_correlation(np.stack([x, x, -x], axis=1)) == pytest.approx(-1 / 3)
    assert math.isnan(mean_model_correlation(x[:, None]))


def test_combine_members_stacks_named_columns() -> None:
    heads = np.array([[1.0, 3.0], [-2.0, -2.0]])
    reward_model = np.array([10.0, -30.0])
    result = combine_members([("heads", heads), ("rm", reward_model)])
    assert result.member_names == ["heads[0]", "heads[1]", "rm"]
    np.testing.assert_allclose(result.mu, [14 / 3, -34 / 3], rtol=1e-6)
    np.testing.assert_allclose(result.sigma, np.std([[1, 3, 10], [-2, -2, -30]], axis=1))

    scaled = combine_members([("heads", heads), ("rm", reward_model)], standardize=True)
    # every column divided by its root mean square: rm becomes (10, -30) / sqrt(500)
    np.testing.assert_allclose(scaled.margins[:, 2], [10 / math.sqrt(500), -30 / math.sqrt(500)])
    assert (np.sign(scaled.margins) == np.sign(result.margins)).all()


def test_combine_members_rejects_mismatched_pairs() -> None:
    with pytest.raises(ValueError, match="pairs"):
        combine_members([("a", np.zeros(3)), ("b", np.zeros(4))])
