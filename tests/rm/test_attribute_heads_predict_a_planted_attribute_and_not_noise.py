"""Per-attribute heads: a planted attribute is predicted out of fold, a noise attribute is not
and is flagged, a corrupted rating is found, and contradicting overall ratings are caught."""

from __future__ import annotations

import numpy as np
import pytest

from workers.rm import (
    AttributeConfig,
    far_ratings,
    fit_attributes,
    overall_contradictions,
    pair_overall_contradictions,
    unpredictable_attributes,
)

CONFIG = AttributeConfig(n_models=4, n_folds=5, n_boot=300)


def planted(seed: int, n_prompts: int = 60, per_prompt: int = 4, dim: int = 32):
    """Unit-norm embeddings; "planted" is a linear function of them plus a little noise on a
    0-4 scale, "noise" is independent of them."""
    rng = np.random.default_rng(seed)
    n = n_prompts * per_prompt
    x = rng.standard_normal((n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    direction = rng.standard_normal(dim)
    signal = x @ direction
    planted = np.clip(2 + 1.5 * signal / signal.std() + rng.normal(0, 0.3, n), 0, 4)
    noise = rng.uniform(0, 4, n)
    groups = np.repeat(np.arange(n_prompts), per_prompt)
    return x, np.stack([planted, noise], axis=1), groups


def test_the_planted_attribute_is_predicted_and_the_noise_attribute_is_not() -> None:
    x, y, groups = planted(0)
    result = fit_attributes(
        features=x, ratings=y, groups=groups, attributes=["planted", "noise"], config=CONFIG
    )
    fit_planted, fit_noise = result.fits
    assert fit_planted.spearman > 0.8 and fit_planted.ci_low > 0.6
    assert fit_planted.predictable and fit_planted.r2_vs_mean > 0.5
    assert fit_planted.within_prompt > 0.5
    assert all(rho is not None and rho > 0.6 for rho in fit_planted.fold_spearman)
    assert abs(fit_noise.spearman) < 0.2 and fit_noise.ci_low <= 0 <= fit_noise.ci_high
    assert not fit_noise.predictable and fit_noise.r2_vs_mean < 0.05
    assert unpredictable_attributes(result) == ["noise"]
    assert result.predictions.shape == (240, 2, 4) and result.spread.shape == (240, 2)
    assert (result.spread[:, 0] > 0).all()


def test_no_response_is_scored_by_a_head_that_saw_its_prompt() -> None:
    # Leak test: if a response's own rating reached its heads, the noise attribute would be
    # memorised and predicted well. Its prompt's other responses are in the same fold too.
    x, y, groups = planted(1)
    result = fit_attributes(
        features=x, ratings=y, groups=groups, attributes=["planted", "noise"], config=CONFIG
    )
    for g in np.unique(groups):
        assert len(np.unique(result.fold[groups == g])) == 1
    assert result.fits[1].spearman < 0.2


def test_unrated_responses_are_predicted_and_leave_the_figures_alone() -> None:
    x, y, groups = planted(2)
    y[::3, 0] = np.nan
    result = fit_attributes(
        features=x, ratings=y, groups=groups, attributes=["planted", "noise"], config=CONFIG
    )
    assert result.fits[0].n_rated == int((~np.isnan(y[:, 0])).sum())
    assert np.isfinite(result.mean[::3, 0]).all()
    assert result.fits[0].spearman > 0.8


def test_a_corrupted_rating_is_far_from_every_head_and_the_honest_ones_are_not() -> None:
    x, y, groups = planted(3)
    result = fit_attributes(
        features=x, ratings=y, groups=groups, attributes=["planted", "noise"], config=CONFIG
    )
    # annotator ratings: the honest value of responses 0..9 on "planted", and the opposite
    # end of the scale for response 10; and a wild "noise" rating that must not be judged
    honest = list(range(10))
    wrong = 4.0 if result.mean[10, 0] < 2 else 0.0
    far = far_ratings(
        result=result,
        response=np.array([*honest, 10, 11]),
        attribute=np.array([0] * 11 + [1]),
        value=np.array([*y[honest, 0], wrong, 100.0]),
        scale=CONFIG.far_scale,
    )
    assert far.far.tolist() == [False] * 10 + [True, False]
    assert np.isnan(far.distance[-1]) and far.distance[10] > CONFIG.far_scale


def test_an_overall_rating_above_a_response_that_is_better_on_every_attribute_is_caught() -> None:
    # Prompt 0: response 1 is at least as good as response 0 on both attributes and better on
    # one, yet rated lower overall: a contradiction. Response 2 is worse overall and worse on
    # the attributes: consistent. Prompt 1: responses 3, 4 trade off: no contradiction.
    overall = np.array([4, 2, 1, 3, 2])
    attributes = np.array([[2, 3], [2, 4], [1, 1], [4, 1], [1, 4]], dtype=float)
    flagged, pairs = overall_contradictions(
        overall=overall, attributes=attributes, group=np.array([0, 0, 0, 1, 1])
    )
    assert pairs == [(0, 1)]
    assert flagged.tolist() == [True, True, False, False, False]
    # unrated attributes never contradict: with response 1's second rating unknown and its
    # first equal to response 0's, nothing says it is better anywhere
    attributes[1, 1] = np.nan
    _, pairs = overall_contradictions(
        overall=overall, attributes=attributes, group=np.array([0, 0, 0, 1, 1])
    )
    assert pairs == []


def test_a_pair_labelled_a_overall_while_its_attributes_favour_b_is_caught() -> None:
    overall = np.array([1, 1, -1, 0, 1])
    attributes = np.array([[-1, 0], [1, -1], [-1, np.nan], [1, 1], [np.nan, np.nan]], dtype=float)
    flagged = pair_overall_contradictions(overall=overall, attributes=attributes)
    assert flagged.tolist() == [True, False, False, False, False]


def test_mismatched_shapes_are_refused() -> None:
    x, y, groups = planted(4)
    with pytest.raises(ValueError, match="do not fit together"):
        fit_attributes(features=x, ratings=y, groups=groups[:-1], attributes=["a", "b"])
