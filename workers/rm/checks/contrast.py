"""Contrast pairs from a project's own prompts, and the reward model's consistency on them.

Two prompts q and r are a contrast pair when their embeddings' cosine similarity lies in a
band (ContrastConfig.low..high): close enough that they ask similar things in similar words,
not so close that they are the same request. Each has its own preferred answer, q_k and r_k.
A consistent reward model R prefers, in both directions (q, r) and (r, q):

    C_res: R(q, q_k) > R(q, r_k)   q's own answer over the similar prompt's answer
    C_ins: R(q, q_k) > R(r, q_k)   q_k scores higher under its own prompt than under r

Scoring runs store per-pair margins, not reward functions, and these checks need rewards of
combinations no pair holds (q with r's answer). So `fit_reward_ensemble` trains the run's
heads again, with the run's ensemble settings, in-sample on all labelled pairs (their
embeddings come from the cache, so nothing is embedded twice), and R is the mean reward of
those M heads: the ensemble as it would be used on new data.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from workers.rm.cache import EmbeddingCache, EmbeddingSource
from workers.rm.config import EnsembleConfig, FeatureMode
from workers.rm.device import resolve_device, torch_threads
from workers.rm.ensemble import fit_heads, plan_for
from workers.rm.heads import RewardHeads
from workers.rm.pipeline import embed_pairs
from workers.rm.text import Prompt


@dataclass(frozen=True)
class ContrastConfig:
    # Cosine similarity band of two prompts' embeddings, both ends included.
    low: float = 0.75
    high: float = 0.9
    # Nearest neighbours looked at per prompt; band pairs ranked below them are not found.
    neighbours: int = 16
    # Exact search (a flat inner-product index) up to this many prompts, an IVF index above.
    exact_up_to: int = 20_000
    # IVF lists (k-means cells); 0 = 4 sqrt(N). Lists searched per query: probe. Band pairs
    # are close neighbours, which sit in the query's own cell or the next few.
    ivf_lists: int = 0
    ivf_probe: int = 8
    # k-means of the IVF cells trains on this many rows per list (a sample) for this many
    # iterations: at 100k rows, training on all of them would cost more than the search.
    ivf_train_per_list: int = 32
    ivf_train_iterations: int = 10
    # faiss threads (0 = faiss's default, all cores).
    threads: int = 0
    # Contrast pairs scored at most, a seeded sample when more are found (see contrast_check):
    # each costs four new texts for the encoder.
    max_pairs: int = 1000
    # IVF k-means, and the sample of max_pairs.
    seed: int = 0

    def __post_init__(self) -> None:
        if not -1.0 <= self.low <= self.high <= 1.0:
            raise ValueError(f"similarity band must satisfy -1 <= low <= high <= 1: {self}")
        if self.neighbours < 1:
            raise ValueError("neighbours must be at least 1")


def _index(vectors: np.ndarray, config: ContrastConfig) -> Any:
    import faiss

    n, dim = vectors.shape
    index: Any
    if n <= config.exact_up_to:
        index = faiss.IndexFlatIP(dim)
    else:
        lists = config.ivf_lists or max(1, int(4 * math.sqrt(n)))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = config.seed
        index.cp.max_points_per_centroid = config.ivf_train_per_list
        index.cp.niter = config.ivf_train_iterations
        index.train(vectors)
        index.nprobe = min(config.ivf_probe, lists)
    index.add(vectors)
    return index


def band_pairs(
    vectors: np.ndarray, config: ContrastConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j), i < j, of rows whose cosine similarity lies in [low, high], and those
    similarities: (P, 2) int64 and (P,) float32, sorted by (i, j).

    Rows are L2-normalised here, so inner product is cosine similarity."""
    config = config if config is not None else ContrastConfig()
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"vectors must be (N, D), got {x.shape}")
    n = len(x)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.float32)
    x = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
    import faiss

    if config.threads:
        faiss.omp_set_num_threads(config.threads)
    index = _index(x, config)
    k = min(config.neighbours + 1, n)  # +1: a row finds itself first
    sims, ids = index.search(x, k)
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    cols, values = ids.reshape(-1).astype(np.int64), sims.reshape(-1)
    keep = (cols >= 0) & (cols != rows) & (values >= config.low) & (values <= config.high)
    i, j, values = rows[keep], cols[keep], values[keep]
    low, high = np.minimum(i, j), np.maximum(i, j)
    pairs, first = np.unique(np.stack([low, high], axis=1), axis=0, return_index=True)
    return pairs.reshape(-1, 2), values[first].astype(np.float32)


@dataclass
class RewardEnsemble:
    """M reward heads trained together; R(x) is their mean reward."""

    heads: RewardHeads
    config: EnsembleConfig

    def rewards(self, features: np.ndarray) -> np.ndarray:
        """(N,) mean reward over the heads of (N, D) features."""
        x = torch.as_tensor(np.asarray(features, dtype=np.float32))
        with torch.inference_mode():
            return self.heads(x).mean(dim=1).cpu().numpy().astype(np.float64)


def fit_reward_ensemble(
    *, chosen: np.ndarray, rejected: np.ndarray, config: EnsembleConfig | None = None
) -> RewardEnsemble:
    """Train config.n_models Bradley-Terry heads in-sample on all (N, D) pairs (the same loss,
    bootstrap and out-of-bag early stopping as ensemble.train_ensemble) and keep the heads."""
    config = dataclasses.replace(config or EnsembleConfig(), mode="insample")
    if chosen.ndim != 2 or chosen.shape != rejected.shape or len(chosen) < 2:
        raise ValueError(f"need (N, D) chosen and rejected, N >= 2; got {chosen.shape}")
    n_pairs, dim = chosen.shape
    plan = plan_for(n_pairs=n_pairs, config=config)
    device = resolve_device(config.device)
    heads = RewardHeads(dim=dim, hidden=config.hidden, seeds=plan.seeds).to(device)
    out_of_bag = plan.out_of_bag if config.early_stopping and plan.out_of_bag.any() else None
    with torch_threads(config.threads):
        fit_heads(
            heads=heads,
            x_chosen=torch.as_tensor(chosen, dtype=torch.float32, device=device),
            x_rejected=torch.as_tensor(rejected, dtype=torch.float32, device=device),
            margin=torch.full((n_pairs, 1), config.margin, device=device),
            weights=torch.as_tensor(plan.weights.T.copy(), device=device),
            out_of_bag=(
                torch.as_tensor(out_of_bag.T.astype(np.float32), device=device)
                if out_of_bag is not None
                else None
            ),
            config=config,
            progress=None,
            cancel=None,
        )
    return RewardEnsemble(heads=heads.cpu().eval(), config=config)


def response_features(
    *,
    prompts: Sequence[Prompt],
    responses: Sequence[str],
    encoder: EmbeddingSource,
    cache: EmbeddingCache | None = None,
    features: FeatureMode = "context+response",
) -> np.ndarray:
    """(N, D) features of each (prompt, response), built exactly as the heads were trained."""
    x, _ = embed_pairs(
        prompts=prompts, chosen=responses, rejected=responses, encoder=encoder, cache=cache,
        features=features,
    )  # fmt: skip
    return x


@dataclass
class ContrastScores:
    """One row per directed contrast instance (q, r)."""

    res_ok: np.ndarray  # (P,) bool, R(q, q_k) > R(q, r_k)
    ins_ok: np.ndarray  # (P,) bool, R(q, q_k) > R(r, q_k)

    @property
    def n(self) -> int:
        return len(self.res_ok)

    @property
    def c_res(self) -> float:
        return float(self.res_ok.mean()) if self.n else float("nan")

    @property
    def c_ins(self) -> float:
        return float(self.ins_ok.mean()) if self.n else float("nan")


def contrast_scores(
    *, own: np.ndarray, other_response: np.ndarray, other_prompt: np.ndarray
) -> ContrastScores:
    """own = R(q, q_k), other_response = R(q, r_k), other_prompt = R(r, q_k), per instance.
    A tie is not consistent: the model must prefer, as the paper's strict '>' says."""
    own, other_response, other_prompt = (
        np.asarray(a, dtype=np.float64) for a in (own, other_response, other_prompt)
    )
    if not own.shape == other_response.shape == other_prompt.shape or own.ndim != 1:
        raise ValueError("own, other_response and other_prompt must be equal 1-D shapes")
    return ContrastScores(res_ok=own > other_response, ins_ok=own > other_prompt)


def directed(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(q, r) index arrays with both directions of each undirected pair (i, j)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]])
