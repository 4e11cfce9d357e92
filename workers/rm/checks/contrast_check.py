"""The contrast check on a set of labelled pairs, end to end (the pieces are in contrast.py).

1. One preferred answer per prompt: the chosen response of the prompt's first pair.
2. Prompt pairs (q, r) in the similarity band, less those whose preferred answers are the same
   text (they say nothing); at most ContrastConfig.max_pairs of them, a seeded sample.
3. The ensemble's heads refit in-sample on all the pairs, R their mean reward.
4. Both directions of each prompt pair are an instance, scored by C_res and C_ins; an instance
   where both fail flags the pair that holds q's preferred answer.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workers.rm.cache import EmbeddingCache, EmbeddingSource
from workers.rm.checks.contrast import (
    ContrastConfig,
    ContrastScores,
    band_pairs,
    contrast_scores,
    directed,
    fit_reward_ensemble,
    response_features,
)
from workers.rm.config import EnsembleConfig
from workers.rm.pipeline import embed_pairs
from workers.rm.progress import StepProgress
from workers.rm.text import Prompt, prompt_text

# progress(stage, STAGES, message): 0 embedding (reported as it goes), 1 refit, 2 scoring.
STAGES = 3


@dataclass
class ContrastFindings:
    """What the check found; row numbers index the pairs it was given."""

    n_prompts: int  # prompts with a pair, each with its one preferred answer
    n_band_pairs: int  # prompt pairs in the band whose preferred answers differ
    similarities: np.ndarray  # (P,) of the P prompt pairs scored (all, or the sample)
    # Per directed instance, I = 2P: the rows holding q's and r's preferred answers, and the
    # rewards R(q, q_k), R(q, r_k), R(r, q_k).
    q: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    r: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    own: np.ndarray = field(default_factory=lambda: np.zeros(0))
    other_response: np.ndarray = field(default_factory=lambda: np.zeros(0))
    other_prompt: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scores: ContrastScores = field(
        default_factory=lambda: ContrastScores(res_ok=np.zeros(0, bool), ins_ok=np.zeros(0, bool))
    )
    # (row of q's preferred answer, details) for each instance where both checks fail
    flagged: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)  # the first flagged, with ids

    def summary(self) -> dict[str, Any]:
        """The figures the checks page shows."""
        out: dict[str, Any] = {
            "n_prompts": self.n_prompts,
            "n_band_pairs": self.n_band_pairs,
            "similarities": [round(float(s), 4) for s in self.similarities],
        }
        if len(self.similarities) == 0:
            out["skipped"] = "no two prompts lie in the similarity band"
            return out
        out.update(n_instances=self.scores.n, c_res=self.scores.c_res, c_ins=self.scores.c_ins)
        out.update(both_fail=len(self.flagged), examples=self.examples)
        return out


def contrast_check(
    *,
    prompt_keys: Sequence[Hashable],
    prompts: Sequence[Prompt],
    chosen: Sequence[str],
    rejected: Sequence[str],
    pair_ids: Sequence[int],
    encoder: EmbeddingSource,
    cache: EmbeddingCache,
    ensemble: EnsembleConfig,
    config: ContrastConfig,
    examples: int = 20,
    progress: StepProgress | None = None,
) -> ContrastFindings:
    """The contrast check (see the module docstring) on labelled pairs as (prompt, chosen,
    rejected); prompt_keys says which pairs share a prompt, pair_ids are the caller's ids of
    the pairs, named in the details. Embeddings go through the cache; progress may raise
    Cancelled to stop while embedding."""

    def report(stage: int, message: str) -> None:
        if progress is not None:
            progress(stage, STAGES, message)

    first: dict[Hashable, int] = {}
    for k, key in enumerate(prompt_keys):
        first.setdefault(key, k)
    per_prompt = np.array(list(first.values()), dtype=np.int64)
    vectors = cache.get_or_compute(
        [prompt_text(prompts[k]) for k in per_prompt],
        encoder,
        progress=lambda done, total: report(0, f"embedding prompts {done}/{total}"),
    )
    found_pairs, sims = band_pairs(vectors, config)
    differ = np.array(
        [chosen[per_prompt[i]] != chosen[per_prompt[j]] for i, j in found_pairs], dtype=bool
    ).reshape(-1)
    found_pairs, sims = found_pairs[differ], sims[differ]
    n_band_pairs = len(found_pairs)
    if len(found_pairs) > config.max_pairs:
        keep = np.random.default_rng(config.seed).choice(
            len(found_pairs), config.max_pairs, replace=False
        )
        keep.sort()
        found_pairs, sims = found_pairs[keep], sims[keep]
    findings = ContrastFindings(
        n_prompts=len(per_prompt), n_band_pairs=n_band_pairs, similarities=sims
    )
    if len(found_pairs) == 0:
        return findings
    report(1, f"refitting {ensemble.n_models} reward heads")
    x_chosen, x_rejected = embed_pairs(
        prompts=prompts, chosen=chosen, rejected=rejected, encoder=encoder, cache=cache,
        features=ensemble.features, progress=lambda _done, _total, message: report(0, message),
    )  # fmt: skip
    model = fit_reward_ensemble(chosen=x_chosen, rejected=x_rejected, config=ensemble)
    report(2, f"scoring {len(found_pairs)} contrast pairs")
    q, r = directed(found_pairs)
    findings.q, findings.r = per_prompt[q], per_prompt[r]

    def rewards(prompt_rows: np.ndarray, answer_rows: np.ndarray) -> np.ndarray:
        features = response_features(
            prompts=[prompts[k] for k in prompt_rows], responses=[chosen[k] for k in answer_rows],
            encoder=encoder, cache=cache, features=ensemble.features,
        )  # fmt: skip
        return model.rewards(features)

    findings.own = rewards(findings.q, findings.q)
    findings.other_response = rewards(findings.q, findings.r)
    findings.other_prompt = rewards(findings.r, findings.q)
    findings.scores = contrast_scores(
        own=findings.own, other_response=findings.other_response,
        other_prompt=findings.other_prompt,
    )  # fmt: skip
    for row in np.flatnonzero(~findings.scores.res_ok & ~findings.scores.ins_ok):
        details = {
            "check": "contrast",
            "partner_pair": pair_ids[int(findings.r[row])],
            # both directions of prompt pair p are instances p and P + p
            "similarity": float(sims[row % len(found_pairs)]),
            "own": float(findings.own[row]),
            "other_response": float(findings.other_response[row]),
            "other_prompt": float(findings.other_prompt[row]),
        }
        findings.flagged.append((int(findings.q[row]), details))
        if len(findings.examples) < examples:
            findings.examples.append({"pair": pair_ids[int(findings.q[row])], **details})
    return findings
