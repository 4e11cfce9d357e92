"""Fine-tune mode of the step model (on CPU, a tiny BERT): training the encoder with its step
head lowers the loss epoch after epoch on solutions whose wrong steps say so, the steps it
was taught are told apart, and the model it saves scores steps as it did when trained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workers.rm.config import StepFinetuneConfig
from workers.rm.saved import read_manifest, save_model
from workers.rm.step_finetune import finetune_steps, score_step_model
from workers.rm.steps import step_targets

pytestmark = pytest.mark.slow


def solutions(n: int) -> tuple[list[str], list[list[str]], np.ndarray]:
    """n problems of three steps; in every other solution the second step is wrong (and says
    so), the rest right."""
    problems, steps, targets = [], [], []
    for i in range(n):
        wrong = i % 2 == 1
        problems.append(f"What is {i} plus {i}?")
        steps.append(
            [
                f"We add {i} and {i}.",
                f"This is a wrong mistake error {i}." if wrong else f"So it is {2 * i}.",
                f"The answer is {2 * i}.",
            ]
        )
        targets.append(step_targets(n_steps=3, first_error=1 if wrong else -1))
    return problems, steps, np.concatenate(targets)


def test_the_loss_falls_and_the_saved_model_scores_the_steps(
    tiny_base_model: Path, tmp_path: Path
) -> None:
    problems, steps, targets = solutions(16)
    # the step after a first error is unknown: never trained on, still scored
    assert np.isnan(targets).sum() == 8
    config = StepFinetuneConfig(
        model=str(tiny_base_model), max_length=64, epochs=8, batch_size=4, lr=3e-3, device="cpu"
    )
    result = finetune_steps(problems=problems, solutions=steps, targets=targets, config=config)
    loss = result.curves["train_loss"]
    assert len(loss) == 8
    assert loss[-1] < 0.5 * loss[0], loss
    assert result.p_correct.shape == (48,)
    wrong, right = result.p_correct[targets == 0], result.p_correct[targets == 1]
    assert wrong.max() < 0.5 < right.min()  # every step it was taught, told apart
    folder = tmp_path / "step-model"
    folder.mkdir()
    files = save_model(
        folder=folder, result=result, manifest={"kind": "step_finetune", "max_length": 64}
    )
    assert "model.safetensors" in files
    assert (read_manifest(folder) or {})["kind"] == "step_finetune"
    scored = score_step_model(
        folder=folder, problems=problems, solutions=steps, max_length=64, device="cpu"
    )
    assert scored == pytest.approx(result.p_correct, abs=1e-4)


def test_it_refuses_solutions_with_nothing_to_learn(tiny_base_model: Path) -> None:
    problems, steps, targets = solutions(2)
    config = StepFinetuneConfig(model=str(tiny_base_model), max_length=64, device="cpu")
    with pytest.raises(ValueError, match="no step has a label"):
        finetune_steps(
            problems=problems, solutions=steps, targets=np.full_like(targets, np.nan), config=config
        )
