"""Does cleaning help? Held-out accuracy of reward models trained on noisy labels, cleaned or not.

HH-RLHF test splits (../shared/data/hh-rlhf), helpful and harmless each on its own, pairs with
identical responses left out. Per split and per noise seed s in SEEDS:

1. A held-out fifth of the pairs is drawn once (seed 0, the same for every seed and recipe)
   and never trained on; its labels are left as they are.
2. 20% of the training labels are flipped at random (seed s).
3. Strength: the default out-of-fold ensemble (workers.rm.EnsembleConfig: 8 heads x 5 folds)
   scores the noisy training pairs; mu is oriented to the noisy label, and compute_flags'
   defaults flag the likely mislabelled ones. The held-out pairs play no part.
4. One reward head per recipe (workers.rm.training.TrainConfig defaults: linear head, AdamW,
   20 epochs) trains on the noisy pairs with that recipe's targets; "clean labels" trains on
   the same pairs with their original labels and no recipe, the ceiling cleaning aims at.
   Held-out accuracy = share of held-out pairs whose chosen response gets the higher reward.

Figures ``<split>.<recipe>``: held-out accuracy, the mean over the seeds (each seed's value is
printed beside it); ``<split>.<recipe>.ece``: expected calibration error of sigmoid(r_c - r_r)
on the held-out pairs (workers.rm.evaluate). ``<split>.flips_caught_by_flip``: share of the
injected flips that the flip recipe turned back.

Then the paper's decile experiment in small (Wang et al. 2024 trained on each tenth of the
data by strength; with ~1.9k training pairs a fifth is the smallest slice that still trains):
one head per strength quintile of the noisy training pairs, q1 the weakest, trained on that
fifth alone. Figures ``<split>.quintile_q<k>``, and ``<split>.quintile_q<k>_flipped``, the share
of that fifth whose label was flipped.

Same encoder setting and cache as bench_strength: MiniLM, max_length 128, context+response
features, embeddings under var/bench-embeddings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.real_pairs import Features, features_as_stored, hh_test_pairs, offline_encoder
from workers.rm import EnsembleConfig, train_ensemble
from workers.rm.evaluate import accuracy, expected_calibration_error
from workers.rm.flags import compute_flags
from workers.rm.recipes import RecipeConfig, apply_recipe
from workers.rm.training import TrainConfig, train_head

Figures = Callable[[str, float, str], None]
NEEDS_SHARED_DATA = True

HELDOUT_SHARE = 0.2
HELDOUT_SEED = 0
FLIP_SHARE = 0.2
SEEDS = (0, 1, 2)
QUINTILES = 5

RECIPES: dict[str, RecipeConfig] = {
    "none": RecipeConfig(),
    "drop_flagged": RecipeConfig(drop_flagged=True),
    "drop_bottom_20pct": RecipeConfig(drop_bottom_pct=20),
    "flip_mu_below_0": RecipeConfig(flip_below=0.0),
    "smooth_0.1": RecipeConfig(smoothing=0.1),
    "smooth_0.2_on_mu_below_0": RecipeConfig(smoothing=0.2, smooth_below=0.0),
    "margin_1.0": RecipeConfig(margin_lambda=1.0),
    "flip_and_margin": RecipeConfig(flip_below=0.0, margin_lambda=1.0),
    "flip_smooth_margin": RecipeConfig(flip_below=0.0, smoothing=0.1, margin_lambda=1.0),
}


@dataclass
class Noisy:
    """One split with a noise seed: training pairs as labelled (some flipped), and held-out."""

    chosen: np.ndarray
    rejected: np.ndarray
    flipped: np.ndarray  # (N,) bool, the injected flips
    clean_chosen: np.ndarray
    clean_rejected: np.ndarray
    held_chosen: np.ndarray
    held_rejected: np.ndarray


def _noisy(data: Features, seed: int) -> Noisy:
    n = len(data.chosen)
    held = np.zeros(n, dtype=bool)
    held[np.random.default_rng(HELDOUT_SEED).choice(n, round(HELDOUT_SHARE * n), replace=False)] = (
        True
    )
    train = np.flatnonzero(~held)
    flipped = np.zeros(len(train), dtype=bool)
    flipped[
        np.random.default_rng(seed).choice(
            len(train), round(FLIP_SHARE * len(train)), replace=False
        )
    ] = True
    c, r = data.chosen[train], data.rejected[train]
    return Noisy(
        chosen=np.where(flipped[:, None], r, c),
        rejected=np.where(flipped[:, None], c, r),
        flipped=flipped,
        clean_chosen=c,
        clean_rejected=r,
        held_chosen=data.chosen[held],
        held_rejected=data.rejected[held],
    )


def _train(
    noisy: Noisy, recipe: RecipeConfig, mu: np.ndarray, flagged: np.ndarray
) -> tuple[np.ndarray, Any]:
    """(held-out margins, targets) of one head trained with `recipe` on the noisy pairs."""
    targets = apply_recipe(recipe=recipe, n_pairs=len(mu), mu=mu, flagged=flagged)
    keep, flip = targets.keep, targets.flipped[targets.keep]
    c, r = noisy.chosen[keep], noisy.rejected[keep]
    return _held_out(
        np.where(flip[:, None], r, c),
        np.where(flip[:, None], c, r),
        noisy,
        margin=targets.margin[keep],
        smoothing=targets.smoothing[keep],
    ), targets


def _held_out(
    chosen: np.ndarray,
    rejected: np.ndarray,
    noisy: Noisy,
    *,
    margin: np.ndarray | None = None,
    smoothing: np.ndarray | None = None,
) -> np.ndarray:
    """(N_heldout,) margins of one head trained on these pairs."""
    n = len(chosen)
    result = train_head(
        x_chosen=chosen,
        x_rejected=rejected,
        margin=margin if margin is not None else np.zeros(n),
        smoothing=smoothing if smoothing is not None else np.zeros(n),
        heldout_chosen=noisy.held_chosen,
        heldout_rejected=noisy.held_rejected,
        config=TrainConfig(),
    )
    return result.heldout_margins


def _report(figures: Figures, name: str, values: dict[str, list[float]], unit: str = "") -> None:
    for key, runs in values.items():
        figures(f"{name}.{key}", float(np.mean(runs)), unit)
        print(f"cleaning.{name}.{key}.per_seed: {' '.join(f'{v:.4f}' for v in runs)}", flush=True)


def report_split(figures: Figures, name: str, data: Features) -> None:
    data = data.take(np.flatnonzero(~data.same_text))
    table: dict[str, list[float]] = {key: [] for key in [*RECIPES, "clean_labels"]}
    ece: dict[str, list[float]] = {f"{key}.ece": [] for key in table}
    quintiles: dict[str, list[float]] = {}
    caught: list[float] = []
    for seed in SEEDS:
        noisy = _noisy(data, seed)
        ensemble = train_ensemble(
            chosen=noisy.chosen, rejected=noisy.rejected, config=EnsembleConfig(seed=seed)
        )
        mu = ensemble.mu
        flagged = compute_flags(margins=ensemble.margins).likely_mislabelled
        for key, recipe in RECIPES.items():
            margins, targets = _train(noisy, recipe, mu, flagged)
            table[key].append(accuracy(margins))
            ece[f"{key}.ece"].append(expected_calibration_error(margins))
            if key == "flip_mu_below_0":
                caught.append(float(targets.flipped[noisy.flipped].mean()))
        margins = _held_out(noisy.clean_chosen, noisy.clean_rejected, noisy)
        table["clean_labels"].append(accuracy(margins))
        ece["clean_labels.ece"].append(expected_calibration_error(margins))
        order = np.argsort(mu, kind="stable")
        for q, rows in enumerate(np.array_split(order, QUINTILES), start=1):
            quintiles.setdefault(f"quintile_q{q}", []).append(
                accuracy(_held_out(noisy.chosen[rows], noisy.rejected[rows], noisy))
            )
            quintiles.setdefault(f"quintile_q{q}_flipped", []).append(
                float(noisy.flipped[rows].mean())
            )
    figures(f"{name}.train_pairs", len(noisy.chosen), "pairs")
    figures(f"{name}.heldout_pairs", len(noisy.held_chosen), "pairs")
    _report(figures, name, table)
    _report(figures, name, ece)
    figures(f"{name}.flips_caught_by_flip", float(np.mean(caught)), "")
    _report(figures, name, quintiles)


def run(figures: Figures) -> None:
    started = time.perf_counter()
    encoder, cache = offline_encoder()
    for name in ("helpful", "harmless"):
        pairs = hh_test_pairs(f"{name}-base")
        report_split(figures, name, features_as_stored(pairs, encoder=encoder, cache=cache))
    figures("seconds", time.perf_counter() - started, "s")
