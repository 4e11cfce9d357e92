"""Consistency checks on preference data and on the reward models trained from it (no Django).

- contrast: prompts whose embeddings lie in a similarity band (a faiss index), reward heads
  refit so that any (prompt, response) can be scored, and the two consistency rates of
  "The Trickle-down Impact of Reward (In-)consistency on RLHF" (Shen et al.):
  C_res = P[R(q, q_k) > R(q, r_k)] and C_ins = P[R(q, q_k) > R(r, q_k)];
  contrast_check puts them together on a set of labelled pairs.
- cycles: preference cycles (A > B > C > A) among the responses to one prompt.
- bias: length bias, and chosen / rejected texts that are nearly the same.
"""

from workers.rm.checks.bias import LengthBias, length_bias, near_identical
from workers.rm.checks.contrast import (
    ContrastConfig,
    ContrastScores,
    RewardEnsemble,
    band_pairs,
    contrast_scores,
    directed,
    fit_reward_ensemble,
    response_features,
)
from workers.rm.checks.contrast_check import ContrastFindings, contrast_check
from workers.rm.checks.cycles import Cycles, preference_cycles

__all__ = [
    "ContrastConfig",
    "ContrastFindings",
    "ContrastScores",
    "Cycles",
    "LengthBias",
    "RewardEnsemble",
    "band_pairs",
    "contrast_check",
    "contrast_scores",
    "directed",
    "fit_reward_ensemble",
    "length_bias",
    "near_identical",
    "preference_cycles",
    "response_features",
]
