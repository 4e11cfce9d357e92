"""Consistency checks on real data (../shared/data; skipped without it).

Every reward model here is the default ensemble (workers.rm.EnsembleConfig: M=8 linear
Bradley-Terry heads, bootstrap with out-of-bag early stopping, context+response features) on
the bundled MiniLM, frozen, at max_length 128, as in bench_strength. Embeddings are cached
under var/bench-embeddings (a cold run embeds about 30k texts; a warm one only trains heads).

1. Contrast Instructions ("The Trickle-down Impact of Reward (In-)consistency on RLHF",
   contrast-instructions/{wmt,sum}_contrast.json; no license stated, so read from ../shared
   only). Each record holds an instruction q, a lexically similar instruction r, and for each
   a preferred answer (q_k, r_k) and a worse one (q_j, r_j). Over both directions (q, r) and
   (r, q): C_res = P[R(q, q_k) > R(q, r_k)] and C_ins = P[R(q, q_k) > R(r, q_k)]; a tie
   counts as inconsistent. R is the ensemble's mean reward, trained two ways:
   - ``<set>.hh.c_res`` / ``c_ins``: trained in-sample on all pairs of the HH-RLHF test
     splits (helpful-base and harmless-base together), which is what the checks page's refit
     does on an HH project. Translation (wmt: Chinese instructions, English answers) and
     summarisation (sum) are far from HH's dialogue, so this is a transfer figure.
   - ``<set>.own.c_res`` / ``c_ins``: trained on the set's own preference pairs (q: q_k over
     q_j, r: r_k over r_j), 5 folds by record, every record scored by heads that never saw
     it. ``<set>.own.pair_accuracy``: how often those heads rank q_k over q_j (and r_k over
     r_j), for scale.
   The paper reports a 7B reward model near 54% C_res and humans near 80%.

2. Length bias on the HH-RLHF test splits (``hh.<split>.*``): ``share_chosen_longer``, the
   share of pairs (of those whose responses differ in length, in characters) whose chosen
   response is the longer; ``margin_spearman`` / ``margin_pearson``, the correlation of the
   out-of-fold ensemble margin mu (default config, K=5) with len(chosen) - len(rejected).

3. Similarity search on 100k prompts (``search.*``). Embedding 100k prompts with MiniLM on
   2 CPU cores would take far longer than the search, so this times only what the checks do
   after embedding: 100k vectors of the encoder's dimension (384), resampled from the real
   HH-RLHF prompt embeddings with Gaussian noise (a random scale per vector, cosine to its
   source between about 0.8 and 0.95) and L2-normalised, then `band_pairs` with the default
   ContrastConfig (band 0.75-0.9, 16 neighbours; above 20k rows an IVF index with 4 sqrt(N)
   lists, 8 probed, k-means on 32 rows per list for 10 iterations), faiss on 2 threads.
   ``search.seconds`` is the wall time of index training + adding + searching all 100k rows +
   the band filter (target: under 30 s on 2 cores); ``search.cpu_seconds`` the process's CPU
   time over it, which a shared machine inflates less (about twice the wall time on two
   free cores); ``search.band_pairs`` the
   pairs found; ``search.recall`` the share of the band pairs an exact search finds for 2000
   sampled rows that the IVF search found too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

import numpy as np

from bench.real_pairs import CACHE, DATA, MAX_LENGTH, hh_test_pairs
from webapp.imports.formats import ParsedPair
from workers.rm import EmbeddingCache, Encoder, EncoderConfig, EnsembleConfig, embed_pairs
from workers.rm.checks import (
    ContrastConfig,
    band_pairs,
    contrast_scores,
    fit_reward_ensemble,
    length_bias,
    response_features,
)
from workers.rm.ensemble import assign_folds, train_ensemble
from workers.rm.text import format_turns, prompt_messages

Figures = Callable[[str, float, str], None]

NEEDS_SHARED_DATA = True

HH_SPLITS = ("helpful-base", "harmless-base")
CONTRAST_SETS = ("wmt", "sum")
SEARCH_ROWS = 100_000
RECALL_ROWS = 2000
FOLDS = 5


def _contrast(name: str) -> list[dict[str, str]]:
    records = json.loads((DATA / "contrast-instructions" / f"{name}_contrast.json").read_text())
    return [r for r in records if all(isinstance(r.get(k), str) for k in _FIELDS)]


_FIELDS = (
    "query",
    "retrieval",
    "query_response_k",
    "query_response_j",
    "retrieval_response_k",
    "retrieval_response_j",
)


class _Features:
    def __init__(self, encoder: Encoder, cache: EmbeddingCache) -> None:
        self.encoder, self.cache = encoder, cache

    def __call__(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        return response_features(
            prompts=prompts, responses=responses, encoder=self.encoder, cache=self.cache
        )


def _contrast_features(records: list[dict[str, str]], feats: _Features) -> dict[str, np.ndarray]:
    """Features of every (instruction, answer) combination the two figures need, with the
    directions stacked: rows 0..n-1 are (q, r), rows n..2n-1 are (r, q)."""
    q = [r["query"] for r in records] + [r["retrieval"] for r in records]
    other = [r["retrieval"] for r in records] + [r["query"] for r in records]
    own_k = [r["query_response_k"] for r in records] + [r["retrieval_response_k"] for r in records]
    own_j = [r["query_response_j"] for r in records] + [r["retrieval_response_j"] for r in records]
    other_k = own_k[len(records) :] + own_k[: len(records)]
    return {
        "own": feats(q, own_k),  # R(q, q_k)
        "worse": feats(q, own_j),  # R(q, q_j)
        "other_response": feats(q, other_k),  # R(q, r_k)
        "other_prompt": feats(other, own_k),  # R(r, q_k)
    }


def report_contrast(
    figures: Figures, name: str, x: dict[str, np.ndarray], hh: tuple[np.ndarray, np.ndarray]
) -> None:
    n = len(x["own"]) // 2
    model = fit_reward_ensemble(chosen=hh[0], rejected=hh[1], config=EnsembleConfig())
    scores = contrast_scores(
        **{k: model.rewards(x[k]) for k in ("own", "other_response", "other_prompt")}
    )
    figures(f"{name}.instances", scores.n, "")
    figures(f"{name}.hh.c_res", scores.c_res, "")
    figures(f"{name}.hh.c_ins", scores.c_ins, "")
    # in-domain: folds by record, so neither direction of a held-out record was trained on
    fold = assign_folds(n_pairs=n, n_folds=FOLDS, seed=0)
    fold = np.concatenate([fold, fold])
    rewards = {k: np.zeros(2 * n) for k in ("own", "worse", "other_response", "other_prompt")}
    for k in range(FOLDS):
        train, test = fold != k, fold == k
        held = fit_reward_ensemble(
            chosen=x["own"][train], rejected=x["worse"][train], config=EnsembleConfig()
        )
        for key, values in rewards.items():
            values[test] = held.rewards(x[key][test])
    own = contrast_scores(
        own=rewards["own"],
        other_response=rewards["other_response"],
        other_prompt=rewards["other_prompt"],
    )
    figures(f"{name}.own.c_res", own.c_res, "")
    figures(f"{name}.own.c_ins", own.c_ins, "")
    figures(f"{name}.own.pair_accuracy", float((rewards["own"] > rewards["worse"]).mean()), "")


def report_length(
    figures: Figures, split: str, pairs: list[ParsedPair], x: tuple[np.ndarray, np.ndarray]
) -> None:
    chosen_len = np.array([len(p.response_a) for p in pairs])
    rejected_len = np.array([len(p.response_b) for p in pairs])
    result = train_ensemble(chosen=x[0], rejected=x[1], config=EnsembleConfig())
    bias = length_bias(chosen_len=chosen_len, rejected_len=rejected_len, margin=result.mu)
    figures(f"hh.{split}.pairs", len(pairs), "pairs")
    figures(f"hh.{split}.share_chosen_longer", bias.share_chosen_longer, "")
    figures(f"hh.{split}.margin_spearman", bias.margin_spearman, "")
    figures(f"hh.{split}.margin_pearson", bias.margin_pearson, "")


def report_search(figures: Figures, prompt_vectors: np.ndarray) -> None:
    import faiss

    rng = np.random.default_rng(0)
    source = prompt_vectors[rng.integers(0, len(prompt_vectors), SEARCH_ROWS)]
    dim = source.shape[1]
    # noise of norm s (s uniform in 0.33..0.75): cosine to the source 1 / sqrt(1 + s^2)
    scale = rng.uniform(0.33, 0.75, size=(SEARCH_ROWS, 1)) / np.sqrt(dim)
    x = source + scale * rng.standard_normal(source.shape)
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    config = ContrastConfig(threads=2)
    figures("search.rows", SEARCH_ROWS, "vectors")
    figures("search.dim", dim, "")
    start, cpu = time.perf_counter(), time.process_time()
    pairs, _ = band_pairs(x, config)
    figures("search.seconds", time.perf_counter() - start, "s")
    figures("search.cpu_seconds", time.process_time() - cpu, "s")
    figures("search.band_pairs", len(pairs), "pairs")
    # recall against an exact search, for a sample of query rows
    rows = np.sort(rng.choice(SEARCH_ROWS, RECALL_ROWS, replace=False))
    exact = faiss.IndexFlatIP(dim)
    exact.add(x)
    sims, ids = exact.search(x[rows], config.neighbours + 1)
    truth = set()
    for row, ss, js in zip(rows.tolist(), sims, ids, strict=True):
        for s, j in zip(ss.tolist(), js.tolist(), strict=True):
            if j != row and config.low <= s <= config.high:
                truth.add((min(row, j), max(row, j)))
    found = {tuple(p) for p in pairs.tolist()}
    figures("search.recall", sum(p in found for p in truth) / max(len(truth), 1), "")


def run(figures: Figures) -> None:
    encoder = Encoder(EncoderConfig(max_length=MAX_LENGTH))
    cache = EmbeddingCache(CACHE)
    feats = _Features(encoder, cache)
    hh_pairs = {split: hh_test_pairs(split) for split in HH_SPLITS}
    hh_x = {}
    for split, pairs in hh_pairs.items():
        hh_x[split] = embed_pairs(
            prompts=[p.prompt for p in pairs], chosen=[p.response_a for p in pairs],
            rejected=[p.response_b for p in pairs], encoder=encoder, cache=cache,
            features=EnsembleConfig().features,
        )  # fmt: skip
        report_length(figures, split, pairs, hh_x[split])
    both = (
        np.vstack([hh_x[s][0] for s in HH_SPLITS]),
        np.vstack([hh_x[s][1] for s in HH_SPLITS]),
    )
    for name in CONTRAST_SETS:
        records = _contrast(name)
        report_contrast(figures, name, _contrast_features(records, feats), both)
    prompts = [format_turns(prompt_messages(p.prompt)) for s in HH_SPLITS for p in hh_pairs[s]]
    report_search(figures, cache.get_or_compute(sorted(set(prompts)), encoder))
