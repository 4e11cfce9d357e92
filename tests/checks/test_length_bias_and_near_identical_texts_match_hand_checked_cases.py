"""Length bias and near-identical texts on small hand-checked cases."""

from __future__ import annotations

import math

import numpy as np

from workers.rm.checks import length_bias, near_identical


def test_share_chosen_longer_leaves_out_equal_lengths() -> None:
    # chosen longer in 3 of the 4 pairs whose lengths differ; the fifth is equal
    bias = length_bias(
        chosen_len=np.array([10, 20, 30, 5, 7]), rejected_len=np.array([5, 10, 10, 9, 7])
    )
    assert bias.n_pairs == 4
    assert bias.share_chosen_longer == 0.75
    assert math.isnan(bias.margin_pearson)


def test_margin_correlation_with_length_difference() -> None:
    # mu = 2 * (len diff) exactly: both correlations are 1; reversed, -1
    chosen, rejected = np.array([3, 8, 1, 6]), np.array([1, 2, 4, 6])
    diff = chosen - rejected
    bias = length_bias(chosen_len=chosen, rejected_len=rejected, margin=2.0 * diff)
    assert math.isclose(bias.margin_pearson, 1.0) and math.isclose(bias.margin_spearman, 1.0)
    bias = length_bias(chosen_len=chosen, rejected_len=rejected, margin=-1.0 * diff)
    assert math.isclose(bias.margin_spearman, -1.0)


def test_near_identical_texts() -> None:
    base = " ".join(f"word{i}" for i in range(40))
    one_word_changed = base.replace("word7", "other")  # 39 of 40 words match: ratio 0.975
    a = [base, "Hello  World", base, "Paris is the capital.", "same"]
    b = [one_word_changed, "hello world", base[:100], "Lyon is a big city.", "same"]
    assert near_identical(a, b).tolist() == [True, True, False, False, False]
    # a stricter threshold drops the one-word change
    assert near_identical(a, b, threshold=0.99).tolist() == [False, True, False, False, False]
