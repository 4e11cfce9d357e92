"""Behaviour 7: fine-tune mode and existing sequence-classification reward models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from tests.rm.helpers import Pairs
from workers.rm import FinetuneConfig, finetune_ensemble, score_with_sequence_classifier
from workers.rm.text import rm_text


def test_finetune_trains_out_of_fold_models_on_a_tiny_bert(
    hh_pairs: Pairs, tiny_model_dir: Path
) -> None:
    pairs = hh_pairs.head(24)
    config = FinetuneConfig(
        model=str(tiny_model_dir),
        max_length=64,
        n_models=2,
        n_folds=3,
        epochs=2,
        batch_size=4,
        lr=1e-3,
        device="cpu",
        threads=1,  # a 32-wide model: more threads only add hand-offs
    )
    steps: list[tuple[int, int]] = []
    result = finetune_ensemble(
        prompts=pairs.prompts,
        chosen=pairs.chosen,
        rejected=pairs.rejected,
        config=config,
        progress=lambda done, total, _: steps.append((done, total)),
    )
    assert result.margins.shape == (24, 2)
    assert np.isfinite(result.margins).all()
    assert (result.margins != 0).all()  # every pair was scored by both of its models
    assert result.train_loss.shape == (6, 2)  # K * M models, one loss per epoch
    assert result.trained_on is not None and result.scored_by is not None
    assert not result.trained_on[result.scored_by, np.arange(24)[:, None]].any()
    assert steps[-1][0] == steps[-1][1]
    np.testing.assert_allclose(result.mu, result.margins.mean(axis=1), rtol=1e-5)


def test_finetune_in_sample_scores_every_pair_with_every_model(
    hh_pairs: Pairs, tiny_model_dir: Path
) -> None:
    pairs = hh_pairs.head(8)
    config = FinetuneConfig(
        model=str(tiny_model_dir),
        max_length=32,
        n_models=2,
        mode="insample",
        device="cpu",
        threads=1,
    )
    rng_state = torch.get_rng_state()
    result = finetune_ensemble(
        prompts=pairs.prompts, chosen=pairs.chosen, rejected=pairs.rejected, config=config
    )
    assert result.margins.shape == (8, 2)
    assert result.fold is None
    assert result.trained_on is not None and result.trained_on.any(axis=1).all()
    # Seeded per model, and the caller's random state is left alone.
    assert torch.equal(torch.get_rng_state(), rng_state)
    again = finetune_ensemble(
        prompts=pairs.prompts, chosen=pairs.chosen, rejected=pairs.rejected, config=config
    )
    np.testing.assert_array_equal(again.margins, result.margins)


def test_an_existing_reward_model_scores_pairs_as_it_is(
    hh_pairs: Pairs, tiny_model_dir: Path
) -> None:
    pairs = hh_pairs.head(10)
    margins = score_with_sequence_classifier(
        model_path=str(tiny_model_dir),
        prompts=pairs.prompts,
        chosen=pairs.chosen,
        rejected=pairs.rejected,
        max_length=64,
        device="cpu",
    )
    assert margins.shape == (10,) and margins.dtype == np.float32
    swapped = score_with_sequence_classifier(
        model_path=str(tiny_model_dir),
        prompts=pairs.prompts,
        chosen=pairs.rejected,
        rejected=pairs.chosen,
        max_length=64,
        device="cpu",
    )
    np.testing.assert_allclose(swapped, -margins, atol=1e-5)

    # The same number as a plain transformers forward pass on the left-truncated texts.
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, truncation_side="left")
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    texts = [
        rm_text(prompt=pairs.prompts[0], response=pairs.chosen[0]),
        rm_text(prompt=pairs.prompts[0], response=pairs.rejected[0]),
    ]
    with torch.inference_mode():
        for text, sign in zip(texts, (1, -1), strict=True):
            inputs = tokenizer(text, truncation=True, max_length=64, return_tensors="pt")
            texts_rewards = model(**inputs).logits[0, 0].item()
            margins[0] -= sign * texts_rewards
    assert margins[0] == pytest.approx(0.0, abs=1e-5)


def test_a_classifier_with_more_than_one_output_is_refused(
    hh_pairs: Pairs, tiny_model_dir: Path, tmp_path: Path
) -> None:
    config = AutoConfig.from_pretrained(tiny_model_dir, num_labels=2)
    AutoModelForSequenceClassification.from_config(config).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="one"):
        score_with_sequence_classifier(
            model_path=str(tmp_path),
            prompts=hh_pairs.prompts[:2],
            chosen=hh_pairs.chosen[:2],
            rejected=hh_pairs.rejected[:2],
            device="cpu",
        )
