"""A simulated review of injected label flips: does the queue that learns find them sooner?

On each HH-RLHF test split (../shared/data/hh-rlhf, pairs with identical responses left out),
a random 20% of the labels are flipped and the default ensemble scores every pair out of fold
(as bench_strength does). A reviewer who answers truthfully (flip if the label was flipped,
else keep) then decides 50 pairs at a time from the top of a queue, three ways in the same
run, on the same flips and the same scores:
- ``mu``: the lowest mu first, the queue's order before it learnt anything (mu alone; the
  app's severity order sorts by mu within each flag severity);
- ``learning``: the noise model (workers/rm/noise.py) refitted on every answer so far before
  each batch, its queue order with the default exploring share: what the app's queue does;
- ``random``: a random order.
After 100, 250 and 500 decisions, ``<split>.found_<queue>_<n>`` is the flips found (mean over
the five flip draws of bench_strength, with ``..._sd`` their standard deviation).

Random flips are noise with no pattern beyond what the ensemble sees; real label noise often
has one. ``<split>_longer`` repeats the review with flips made by a labeller who prefers the
longer response (a label whose rejected response is the longer is flipped seven times as
often as one whose chosen response is; still 20% in all), a bias the noise model can learn
from the answers through its length feature.
``<split>.precision_measured`` is the likely-mislabelled flag's precision as the learning
queue's reviewer measures it after 500 decisions (confirmed share of reviewed flagged
pairs), beside ``<split>.precision_true``, the share of all flagged pairs whose label was
flipped (known here): the queue reviews the pairs most likely wrong first, so the measured
figure leans high, and the gap says how much.

The noise model sees what the app gives it for these pairs: -mu, sigma, the share of members
against the label, the strength decile, the chosen response's share of the pair's length, and
the cosine similarity of the two responses' embeddings (HH-RLHF has no votes, checks or judges
here).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from bench.bench_strength import FLIP_SEEDS, FLIP_SHARE
from bench.real_pairs import (
    Features,
    features_as_stored,
    hh_test_pairs,
    offline_encoder,
)
from workers.rm import (
    EnsembleConfig,
    compute_flags,
    strength_deciles,
    train_ensemble,
)
from workers.rm.noise import PRIOR, NoiseConfig, fit_noise_model, queue_order

Figures = Callable[[str, float, str], None]
NEEDS_SHARED_DATA = True

BATCH = 50
CHECKPOINTS = (100, 250, 500)
QUEUES = ("mu", "learning", "random")
SCENARIOS = ("random", "longer")


def _features(data: Features, lengths: np.ndarray, flipped: np.ndarray) -> tuple[dict, dict]:
    """The noise model's features of the flipped data, and the ensemble's flags."""
    chosen = np.where(flipped[:, None], data.rejected, data.chosen)
    rejected = np.where(flipped[:, None], data.chosen, data.rejected)
    result = train_ensemble(chosen=chosen, rejected=rejected, config=EnsembleConfig())
    len_chosen = np.where(flipped, lengths[:, 1], lengths[:, 0])
    len_rejected = np.where(flipped, lengths[:, 0], lengths[:, 1])
    norms = np.linalg.norm(chosen, axis=1) * np.linalg.norm(rejected, axis=1)
    features = {
        PRIOR: -result.mu.astype(np.float64),
        "sigma": result.sigma.astype(np.float64),
        "members_against": (result.margins < 0).mean(axis=1),
        "decile": strength_deciles(result.mu).astype(np.float64),
        "length_diff": (len_chosen - len_rejected) / (len_chosen + len_rejected + 1),
        "similarity": (chosen * rejected).sum(axis=1) / np.maximum(norms, 1e-12),
    }
    return features, {
        "likely_mislabelled": compute_flags(margins=result.margins).likely_mislabelled
    }


def _review(features: dict, flipped: np.ndarray, queue: str, seed: int) -> np.ndarray:
    """The pairs decided, in the order the reviewer decided them (CHECKPOINTS[-1] of them)."""
    n = len(flipped)
    decided: list[int] = []
    done = np.zeros(n, dtype=bool)
    random_order = np.random.default_rng(1000 + seed).permutation(n)
    config = NoiseConfig()
    while len(decided) < CHECKPOINTS[-1]:
        if queue == "mu":
            order = np.argsort(-features[PRIOR], kind="stable")
        elif queue == "random":
            order = random_order
        else:
            answered = np.asarray(decided, dtype=np.int64)
            scores = fit_noise_model(
                features=features, answered=answered, wrong=flipped[answered], config=config
            )
            order, _ = queue_order(
                scores.p_wrong, explore_share=config.explore_share, decided=done,
                doubt=scores.doubt,
            )  # fmt: skip
        batch = [int(i) for i in order if not done[i]][:BATCH]
        done[batch] = True
        decided.extend(batch)
    return np.asarray(decided, dtype=np.int64)


def _flips(lengths: np.ndarray, seed: int, scenario: str) -> np.ndarray:
    """Which labels are flipped: a random 20% ("random"), or 20% flipped by a labeller who
    prefers the longer response ("longer"): a label whose rejected response is the longer is
    seven times as likely to be flipped as one whose chosen response is."""
    n = len(lengths)
    weights = np.ones(n)
    if scenario == "longer":
        weights = np.where(lengths[:, 1] > lengths[:, 0], 7.0, 1.0)
    flipped = np.zeros(n, dtype=bool)
    rows = np.random.default_rng(seed).choice(
        n, size=round(FLIP_SHARE * n), replace=False, p=weights / weights.sum()
    )
    flipped[rows] = True
    return flipped


def report(figures: Figures, name: str, data: Features, lengths: np.ndarray, scenario: str) -> None:
    found: dict[str, list[list[int]]] = {q: [] for q in QUEUES}
    measured, true = [], []
    name = name if scenario == "random" else f"{name}_{scenario}"
    for seed in FLIP_SEEDS:
        flipped = _flips(lengths, seed, scenario)
        features, flags = _features(data, lengths, flipped)
        for queue in QUEUES:
            decided = _review(features, flipped, queue, seed)
            found[queue].append([int(flipped[decided[:k]].sum()) for k in CHECKPOINTS])
            if queue == "learning":
                flagged = flags["likely_mislabelled"]
                reviewed = decided[flagged[decided]]
                measured.append(float(flipped[reviewed].mean()) if len(reviewed) else np.nan)
                true.append(float(flipped[flagged].mean()))
    figures(f"{name}.pairs", len(data.chosen), "pairs")
    figures(f"{name}.flipped", round(FLIP_SHARE * len(data.chosen)), "pairs")
    for queue in QUEUES:
        values = np.asarray(found[queue], dtype=np.float64)  # (draws, checkpoints)
        for j, k in enumerate(CHECKPOINTS):
            figures(f"{name}.found_{queue}_{k}", float(values[:, j].mean()), "flips")
            figures(f"{name}.found_{queue}_{k}_sd", float(values[:, j].std(ddof=1)), "flips")
    learning = np.asarray(found["learning"], dtype=np.float64)
    by_mu = np.asarray(found["mu"], dtype=np.float64)
    lead = learning[:, -1] - by_mu[:, -1]
    figures(f"{name}.learning_minus_mu_{CHECKPOINTS[-1]}", float(lead.mean()), "flips")
    figures(f"{name}.learning_ahead_draws", int((lead > 0).sum()), "")
    figures(f"{name}.precision_measured", float(np.nanmean(measured)), "")
    figures(f"{name}.precision_true", float(np.mean(true)), "")


def run(figures: Figures) -> None:
    started = time.perf_counter()
    encoder, cache = offline_encoder()
    for name in ("helpful", "harmless"):
        pairs = hh_test_pairs(f"{name}-base")
        data = features_as_stored(pairs, encoder=encoder, cache=cache)
        keep = np.flatnonzero(~data.same_text)
        lengths = np.array([[len(p.response_a), len(p.response_b)] for p in pairs], dtype=float)
        for scenario in SCENARIOS:
            report(figures, name, data.take(keep), lengths[keep], scenario)
    figures("seconds", time.perf_counter() - started, "s")
