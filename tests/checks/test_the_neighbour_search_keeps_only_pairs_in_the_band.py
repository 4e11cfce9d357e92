"""The nearest-neighbour search keeps exactly the pairs whose similarity lies in the band."""

from __future__ import annotations

import numpy as np
import pytest

from workers.rm.checks import ContrastConfig, band_pairs


def _at_angles(cosines: list[float]) -> np.ndarray:
    """Row 0 = (1, 0, 0); row i = a unit vector whose cosine with row 0 is cosines[i - 1],
    each in its own plane so the others are far from one another."""
    rows = [np.array([1.0, 0.0, 0.0, 0.0, 0.0])]
    for i, c in enumerate(cosines):
        v = np.zeros(5)
        v[0], v[i + 1] = c, np.sqrt(1 - c * c)
        rows.append(v)
    return np.array(rows, dtype=np.float32)


def test_only_pairs_inside_the_band_are_kept() -> None:
    x = _at_angles([0.95, 0.85, 0.76, 0.5])
    # rows 1..4 against each other: cos = c_i c_j (0.81, 0.72, 0.48, 0.65, 0.43, 0.38)
    pairs, sims = band_pairs(x, ContrastConfig(low=0.75, high=0.9))
    assert pairs.tolist() == [[0, 2], [0, 3], [1, 2]]
    np.testing.assert_allclose(sims, [0.85, 0.76, 0.95 * 0.85], atol=1e-5)


def test_the_band_is_configurable_and_unnormalised_rows_are_normalised() -> None:
    x = _at_angles([0.95, 0.85, 0.76, 0.5]) * np.array([[3.0], [1.0], [2.0], [0.5], [7.0]])
    pairs, _ = band_pairs(x, ContrastConfig(low=0.9, high=1.0))
    assert pairs.tolist() == [[0, 1]]
    # row 4 (cos 0.5 with row 0) against rows 1..3: 0.475, 0.425, 0.38
    pairs, _ = band_pairs(x, ContrastConfig(low=0.3, high=0.55))
    assert pairs.tolist() == [[0, 4], [1, 4], [2, 4], [3, 4]]


def test_the_ivf_index_finds_the_same_band_pairs_as_the_exact_one() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 32))
    x = np.repeat(centres, 30, axis=0) + 0.35 * rng.normal(size=(600, 32))
    exact, _ = band_pairs(x, ContrastConfig(low=0.75, high=0.9, neighbours=40))
    approx, _ = band_pairs(
        x, ContrastConfig(low=0.75, high=0.9, neighbours=40, exact_up_to=0, ivf_probe=8)
    )
    assert len(exact) > 100
    found = {tuple(p) for p in approx.tolist()}
    recall = sum(tuple(p) in found for p in exact.tolist()) / len(exact)
    assert recall > 0.95
    # and nothing outside the band
    x_unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos = np.einsum("ij,ij->i", x_unit[approx[:, 0]], x_unit[approx[:, 1]])
    assert ((cos >= 0.75 - 1e-5) & (cos <= 0.9 + 1e-5)).all()


def test_a_band_upside_down_is_refused() -> None:
    with pytest.raises(ValueError, match="band"):
        ContrastConfig(low=0.9, high=0.75)
