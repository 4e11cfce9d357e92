"""C_res and C_ins on a tiny hand-built set whose rewards are known."""

from __future__ import annotations

import math

import numpy as np
import torch

from workers.rm.checks import RewardEnsemble, contrast_scores, directed
from workers.rm.config import EnsembleConfig
from workers.rm.heads import RewardHeads


def test_rates_from_given_rewards() -> None:
    # four directed instances; C_res: 10 > 2 yes, 1 > 5 no, 3 > 3 no (a tie), 4 > 0 yes
    # C_ins: 10 > 9 yes, 1 > 0 yes, 3 > 4 no, 4 > 7 no
    scores = contrast_scores(
        own=np.array([10.0, 1.0, 3.0, 4.0]),
        other_response=np.array([2.0, 5.0, 3.0, 0.0]),
        other_prompt=np.array([9.0, 0.0, 4.0, 7.0]),
    )
    assert scores.n == 4
    assert scores.res_ok.tolist() == [True, False, False, True]
    assert scores.c_res == 0.5
    assert scores.ins_ok.tolist() == [True, True, False, False]
    assert scores.c_ins == 0.5


def test_no_instances_give_nan_not_a_number_made_up() -> None:
    empty = np.zeros(0)
    scores = contrast_scores(own=empty, other_response=empty, other_prompt=empty)
    assert math.isnan(scores.c_res) and math.isnan(scores.c_ins)


def test_a_linear_ensemble_with_set_weights_gives_the_hand_computed_rates() -> None:
    # Features are 2-d; two heads with weights (1, 0) and (0, 1): R(x) = (x0 + x1) / 2.
    heads = RewardHeads(dim=2, hidden=0, seeds=[0, 1])
    with torch.no_grad():
        heads.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    model = RewardEnsemble(heads=heads, config=EnsembleConfig(n_models=2))
    # One contrast pair (q=0, r=1) gives two directed instances: (0, 1) and (1, 0).
    q, r = directed(np.array([[0, 1]]))
    assert q.tolist() == [0, 1] and r.tolist() == [1, 0]
    # features of (prompt, answer): f[p][a] for prompt p and prompt a's preferred answer
    f = {
        (0, 0): [4.0, 2.0],  # R = 3
        (0, 1): [1.0, 1.0],  # R = 1  -> R(q0, q0_k) > R(q0, r_k): consistent response
        (1, 1): [0.0, 2.0],  # R = 1
        (1, 0): [2.0, 2.0],  # R = 2  -> R(q1, q1_k) < R(q1, q0_k): inconsistent response
    }
    own = model.rewards(np.array([f[(a, a)] for a in q.tolist()]))
    other_response = model.rewards(np.array([f[(a, b)] for a, b in zip(q, r, strict=True)]))
    other_prompt = model.rewards(np.array([f[(b, a)] for a, b in zip(q, r, strict=True)]))
    assert own.tolist() == [3.0, 1.0]
    scores = contrast_scores(own=own, other_response=other_response, other_prompt=other_prompt)
    # instance 0: 3 > 1 (res), 3 > R(q1, q0_k) = 2 (ins); instance 1: 1 < 2, 1 = R(q0, q1_k) = 1
    assert scores.res_ok.tolist() == [True, False]
    assert scores.ins_ok.tolist() == [True, False]
    assert (scores.c_res, scores.c_ins) == (0.5, 0.5)
