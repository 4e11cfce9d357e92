"""The noise model (workers/rm/noise.py): a feature that separates planted flips puts them
first after one fit on a few answers, out of fold for the answered pairs; the prior alone
until there are answers of both kinds; and the queue's order by its hand-checked rule."""

from __future__ import annotations

import numpy as np
import pytest

from workers.rm.noise import PRIOR, NoiseConfig, fit_noise_model, queue_order


def _data(n: int = 600, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    flipped = rng.random(n) < 0.2
    mu = rng.normal(0.5, 1.0, n)  # the ensemble barely sees the flips
    mu[flipped] -= 0.3
    planted = np.where(flipped, 1.0, 0.0) + rng.normal(0, 0.2, n)
    return {PRIOR: -mu, "planted": planted, "noise": rng.normal(size=n)}, flipped


def test_a_feature_that_separates_planted_flips_puts_them_first_after_one_fit() -> None:
    features, flipped = _data()
    answered = np.arange(60)  # a reviewer answered the first 60 pairs truthfully
    scores = fit_noise_model(features=features, answered=answered, wrong=flipped[answered])
    assert scores.source == "model"
    unanswered = np.arange(60, len(flipped))
    top = unanswered[np.argsort(-scores.p_wrong[unanswered])][: int(flipped[unanswered].sum())]
    by_prior = unanswered[np.argsort(features[PRIOR][unanswered])[::-1]][: len(top)]
    # the prior finds few of the flips, the fitted model nearly all
    assert flipped[top].mean() > 0.8 > 0.5 > flipped[by_prior].mean()
    assert scores.coefficients["planted"] > 0
    assert scores.why(int(top[0]))[0][0] == "planted"
    # the answered pairs are scored out of fold, and the metrics compare it with the prior
    assert scores.metrics["auc_model"] > 0.9 and scores.metrics["auc_prior"] < 0.7
    refit = fit_noise_model(features=features, answered=answered[:-1], wrong=flipped[:59])
    assert not np.allclose(refit.p_wrong[answered[:-1]], scores.p_wrong[answered[:-1]])


def test_the_prior_stands_until_answers_of_both_kinds_exist() -> None:
    features, flipped = _data(n=50)
    none = fit_noise_model(features=features, answered=np.arange(0), wrong=np.zeros(0, bool))
    assert none.source == "prior"
    np.testing.assert_allclose(none.p_wrong, 1 / (1 + np.exp(-features[PRIOR])), rtol=1e-6)
    all_right = fit_noise_model(features=features, answered=np.arange(30), wrong=np.zeros(30, bool))
    assert all_right.source == "prior"
    assert none.why(0)[0][0] == PRIOR
    few = fit_noise_model(features=features, answered=np.arange(5), wrong=flipped[:5],
                          config=NoiseConfig(min_answers=10))  # fmt: skip
    assert few.source == "prior"


def test_missing_values_are_imputed_and_named() -> None:
    features, flipped = _data(n=200)
    votes = np.full(200, np.nan)
    votes[:50] = flipped[:50].astype(float)  # votes against the label, where there are any
    features["votes_against"] = votes
    scores = fit_noise_model(features=features, answered=np.arange(100), wrong=flipped[:100])
    assert "missing votes_against" in scores.names
    assert np.isfinite(scores.p_wrong).all()


def test_the_queue_order_by_hand() -> None:
    p = np.array([0.9, 0.1, 0.5, 0.56, 0.8, 0.3, 0.45, 0.95, 0.2, 0.6, 0.7, 0.05])
    # share 0.25: k = 4 and ceil(0.25 * 12) = 3 pairs explore, those nearest 1/2: rows 2
    # (0.5), 6 (0.45) and 3 (0.56); they take places 4, 8 and 12; the other nine fill the
    # rest by P(wrong), highest first: 7, 0, 4 | 10, 9, 5 | 8, 1, 11
    order, exploring = queue_order(p, explore_share=0.25)
    assert order.tolist() == [7, 0, 4, 2, 10, 9, 5, 6, 8, 1, 11, 3]
    assert np.flatnonzero(exploring).tolist() == [3, 7, 11]
    # where the fold models disagree, the explorers are the pairs they disagree on most
    doubt = np.zeros(12)
    doubt[[0, 5, 9]] = [0.1, 0.3, 0.2]
    order, exploring = queue_order(p, explore_share=0.25, doubt=doubt)
    assert order[exploring].tolist() == [5, 9, 0]
    # a decided pair goes last, whatever its P(wrong)
    decided = np.zeros(12, dtype=bool)
    decided[7] = True
    order, _ = queue_order(p, explore_share=0.25, decided=decided)
    assert order[-1] == 7 and order[0] == 0
    order, exploring = queue_order(p, explore_share=0.0)
    assert order.tolist() == np.argsort(-p, kind="stable").tolist() and not exploring.any()
    with pytest.raises(ValueError, match="explore_share"):
        queue_order(p, explore_share=1.0)
