"""The training loss is TRL's reward loss, margin and centring included, as TRL's own
RewardTrainer.compute_loss computes it; label smoothing (PrefLab's) on a case worked by hand."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from workers.rm.loss import bradley_terry_loss
from workers.rm.training import TrainConfig, train_head

R_C = torch.tensor([1.0, -0.5, 2.0, 0.3])
R_R = torch.tensor([0.2, 0.4, -1.0, 0.3])


class _FixedRewards(torch.nn.Module):
    """Stands in for the model TRL's compute_loss calls: the rewards of a batch whose first
    half is the chosen texts and second half the rejected ones, as TRL's collator lays it out."""

    def forward(self, **inputs: Any) -> SimpleNamespace:
        return SimpleNamespace(logits=torch.cat([R_C, R_R])[:, None])


def _trl_loss(
    tiny_base_model: Path, tmp_path: Path, *, center: float | None, margin: torch.Tensor | None
) -> torch.Tensor:
    """The loss TRL's RewardTrainer.compute_loss gives for R_C, R_R (and the margin)."""
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base_model)
    tokenizer.eos_token = tokenizer.sep_token  # TRL appends EOS; a BERT tokenizer has none
    trainer = RewardTrainer(
        model=AutoModelForSequenceClassification.from_pretrained(tiny_base_model),
        args=RewardConfig(
            output_dir=str(tmp_path), report_to="none", use_cpu=True, max_length=16,
            center_rewards_coefficient=center,
        ),
        train_dataset=Dataset.from_dict({"chosen": ["a good answer"], "rejected": ["a bad one"]}),
        processing_class=tokenizer,
    )  # fmt: skip
    n = 2 * len(R_C)
    inputs: dict[str, Any] = {
        "input_ids": torch.ones(n, 3, dtype=torch.long),
        "attention_mask": torch.ones(n, 3, dtype=torch.long),
    }
    if margin is not None:
        inputs["margin"] = margin
    return trainer.compute_loss(_FixedRewards(), inputs)


def test_with_margin_and_centring_it_is_trl_compute_loss(
    tiny_base_model: Path, tmp_path: Path
) -> None:
    margin = torch.tensor([0.0, 0.5, 1.0, 0.2])
    trl = _trl_loss(tiny_base_model, tmp_path, center=0.01, margin=margin)
    ours = bradley_terry_loss(
        r_chosen=R_C, r_rejected=R_R, margin=margin, center_rewards_coefficient=0.01
    )
    assert ours.item() == pytest.approx(trl.item(), rel=1e-6)
    # the margin and the centring both change the value: the comparison covers both terms
    plain = _trl_loss(tiny_base_model, tmp_path, center=None, margin=None)
    assert abs(plain.item() - trl.item()) > 0.05
    assert bradley_terry_loss(r_chosen=R_C, r_rejected=R_R).item() == pytest.approx(
        plain.item(), rel=1e-6
    )


def test_label_smoothing_on_a_case_worked_by_hand() -> None:
    # pair 1: d = ln 3 - 0 = ln 3, sigmoid(d) = 3/4, a = 1/4:
    #   -(3/4 ln 3/4 + 1/4 ln 1/4) = 0.75 * 0.287682 + 0.25 * 1.386294 = 0.562335
    # pair 2: d = 2 - 1 - margin 1 = 0, sigmoid(d) = 1/2, any a: -ln 1/2 = 0.693147
    # mean: (0.562335 + 0.693147) / 2 = 0.627741
    r_chosen = torch.tensor([math.log(3.0), 2.0], requires_grad=True)
    loss = bradley_terry_loss(
        r_chosen=r_chosen,
        r_rejected=torch.tensor([0.0, 1.0]),
        margin=torch.tensor([0.0, 1.0]),
        smoothing=torch.tensor([0.25, 0.1]),
    )
    assert loss.item() == pytest.approx(0.627741, abs=1e-6)
    loss.backward()
    assert r_chosen.grad is not None
    # pair 1 sits at the smoothed optimum, sigmoid(d) = 1 - a: -(3/4)(1/4) + (1/4)(3/4) = 0;
    # pair 2: (-(1 - a)(1/2) + a (1/2)) / 2 pairs = (-0.45 + 0.05) / 2 = -0.2
    assert r_chosen.grad.tolist() == pytest.approx([0.0, -0.2], abs=1e-6)


def test_smoothing_stops_a_separable_head_from_growing_without_bound() -> None:
    rng = np.random.default_rng(0)
    direction = rng.standard_normal(8)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = rng.standard_normal((64, 8)).astype(np.float32)
    better = ((x - y) @ direction > 0)[:, None]
    c, r = np.where(better, x, y), np.where(better, y, x)
    config = TrainConfig(epochs=200, batch_size=64, lr=0.05, weight_decay=0.0)
    margins = {}
    for a in (0.0, 0.2):
        result = train_head(
            x_chosen=c, x_rejected=r, margin=np.zeros(64), smoothing=np.full(64, a),
            heldout_chosen=c, heldout_rejected=r, config=config,
        )  # fmt: skip
        margins[a] = float(np.abs(result.heldout_margins).mean())
    # the smoothed optimum sits where sigmoid(d) = 1 - a: |d| near log(4) = 1.39, not infinity
    assert margins[0.2] < margins[0.0]
    assert margins[0.2] < 3.0
