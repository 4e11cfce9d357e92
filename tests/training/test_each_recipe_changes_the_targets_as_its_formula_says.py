"""Each cleaning recipe changes the training targets exactly as its formula says, on 8 pairs."""

from __future__ import annotations

import numpy as np
import pytest

from workers.rm.recipes import RecipeConfig, apply_recipe

MU = np.array([-2.0, -0.5, -0.1, 0.0, 0.2, 0.7, 1.5, np.nan])
FLAGS = np.array([False, True, False, False, True, False, False, False])


def test_no_recipe_keeps_every_label_as_it_is() -> None:
    t = apply_recipe(recipe=RecipeConfig(), n_pairs=8, mu=MU)
    assert t.keep.all() and not t.flipped.any()
    assert (t.smoothing == 0).all() and (t.margin == 0).all()
    assert RecipeConfig().name() == "none" and not RecipeConfig().needs_strength


def test_drop_flagged_leaves_out_exactly_the_flagged_pairs() -> None:
    t = apply_recipe(recipe=RecipeConfig(drop_flagged=True), n_pairs=8, flagged=FLAGS)
    assert (t.keep == ~FLAGS).all()
    with pytest.raises(ValueError, match="flags"):
        apply_recipe(recipe=RecipeConfig(drop_flagged=True), n_pairs=8)


def test_drop_bottom_and_top_percent_by_strength() -> None:
    # 7 pairs have a strength; the bottom 30% is floor(2.1) = 2 pairs, the top 15% is 1 pair
    t = apply_recipe(recipe=RecipeConfig(drop_bottom_pct=30, drop_top_pct=15), n_pairs=8, mu=MU)
    assert t.keep.tolist() == [False, False, True, True, True, True, False, True]


def test_flip_swaps_labels_below_the_threshold_and_turns_their_strength() -> None:
    t = apply_recipe(recipe=RecipeConfig(flip_below=-0.3), n_pairs=8, mu=MU)
    assert t.flipped.tolist() == [True, True, False, False, False, False, False, False]
    assert t.strength[:2].tolist() == [2.0, 0.5]  # -mu once flipped
    assert np.isnan(t.strength[7])


def test_flip_never_touches_a_dropped_pair() -> None:
    recipe = RecipeConfig(drop_flagged=True, flip_below=0.0)
    t = apply_recipe(recipe=recipe, n_pairs=8, mu=MU, flagged=FLAGS)
    assert not t.flipped[1] and t.flipped[0] and t.flipped[2]


def test_label_smoothing_everywhere_or_only_on_weak_pairs() -> None:
    every = apply_recipe(recipe=RecipeConfig(smoothing=0.1), n_pairs=8, mu=MU)
    assert np.allclose(every.smoothing, 0.1)
    weak = apply_recipe(recipe=RecipeConfig(smoothing=0.1, smooth_below=0.1), n_pairs=8, mu=MU)
    assert np.allclose(weak.smoothing, [0.1, 0.1, 0.1, 0.1, 0, 0, 0, 0])


def test_adaptive_margin_is_lambda_times_mu_after_flips() -> None:
    t = apply_recipe(recipe=RecipeConfig(margin_lambda=0.5), n_pairs=8, mu=MU)
    assert np.allclose(t.margin, [-1.0, -0.25, -0.05, 0.0, 0.1, 0.35, 0.75, 0.0])
    both = apply_recipe(recipe=RecipeConfig(flip_below=-1.0, margin_lambda=0.5), n_pairs=8, mu=MU)
    assert both.margin[0] == pytest.approx(1.0)  # flipped: m = 0.5 * (+2)


def test_a_recipe_that_reads_strength_needs_it() -> None:
    with pytest.raises(ValueError, match="scoring run"):
        apply_recipe(recipe=RecipeConfig(margin_lambda=1.0), n_pairs=8)


@pytest.mark.parametrize(
    "bad",
    [{"smoothing": 0.5}, {"drop_bottom_pct": -1}, {"drop_bottom_pct": 60, "drop_top_pct": 40}],
)
def test_impossible_recipes_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RecipeConfig(**bad)  # type: ignore[arg-type]
