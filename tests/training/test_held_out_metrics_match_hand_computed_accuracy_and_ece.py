"""Held-out metrics: accuracy overall, per strength decile and on gold pairs; ECE; reliability."""

from __future__ import annotations

import numpy as np
import pytest

from workers.rm.evaluate import evaluate, expected_calibration_error


def test_accuracy_per_decile_and_on_gold() -> None:
    margins = np.array([1.0, -1.0, 2.0, 0.0, -3.0, 0.5])
    decile = np.array([0, 0, 9, 9, -1, 5])
    gold = np.array([True, True, False, False, False, True])
    m = evaluate(margins=margins, decile=decile, gold=gold)
    assert m["accuracy"] == pytest.approx((1 + 0 + 1 + 0.5 + 0 + 1) / 6)
    by = {row["decile"]: (row["n"], row["accuracy"]) for row in m["by_decile"]}
    assert by == {0: (2, 0.5), 5: (1, 1.0), 9: (2, 0.75)}
    assert (m["gold_n"], m["gold_accuracy"]) == (3, pytest.approx(2 / 3))


def test_a_calibrated_model_has_a_small_ece_and_an_overconfident_one_a_large_one() -> None:
    rng = np.random.default_rng(0)
    d = rng.normal(0, 2, 20000)
    # outcome drawn from sigmoid(d): a calibrated margin, oriented to the drawn winner
    won = rng.random(20000) < 1 / (1 + np.exp(-d))
    calibrated = np.where(won, d, -d)
    assert expected_calibration_error(calibrated) < 0.02
    assert expected_calibration_error(calibrated * 5) > 0.1  # same ranking, overconfident


def test_ece_by_hand_on_two_pairs() -> None:
    # p = sigmoid(0) = 0.5 both sides, outcomes 1 and 0: the bin's mean outcome is 0.5, ECE 0
    assert expected_calibration_error(np.array([0.0])) == pytest.approx(0.0)
    # p = 0.9 (outcome 1) and 0.1 (outcome 0): each bin is off by 0.1
    d = np.log(9.0)
    assert expected_calibration_error(np.array([d])) == pytest.approx(0.1)
    m = evaluate(margins=np.array([d]))
    assert m["reliability"]["mean_predicted"] == pytest.approx([0.1, 0.9])
    assert m["reliability"]["observed"] == pytest.approx([0.0, 1.0])
