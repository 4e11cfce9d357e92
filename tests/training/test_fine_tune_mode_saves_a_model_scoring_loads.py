"""Fine-tune mode (tested on CPU with a tiny BERT): the saved checkpoint is a Hugging Face
reward model that a scoring run's `--reward-model` and `--encoder` load as it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.training.helpers import labelled_project, quick
from webapp.registry.models import RegisteredModel
from webapp.scoring.selectors import labelled_pairs
from webapp.training.models import HeldOutPair
from webapp.training.services import training_run_create, training_run_execute
from workers.rm import Encoder, EncoderConfig, score_with_sequence_classifier
from workers.rm.evaluate import accuracy

pytestmark = pytest.mark.slow


def test_a_fine_tuned_model_is_registered_and_scores_pairs(
    project: Any, tmp_path: Path, tiny_base_model: Path
) -> None:
    labelled_project(project, tmp_path, n=30)
    options = quick(kind="finetune", model=str(tiny_base_model), epochs=2, batch_size=4)
    run = training_run_create(project=project, options=options)
    assert run.job is not None and run.job.queue == "gpu"
    training_run_execute(run=run, progress=lambda *a: None, cancelled=lambda: False)
    run.refresh_from_db()
    model = RegisteredModel.objects.get(run=run)
    assert model.kind == "finetune" and len(run.curves["train_loss"]) == 2
    assert "model.safetensors" in {f["name"] for f in model.files}
    pairs = labelled_pairs(project=project)
    held = set(HeldOutPair.objects.filter(project=project).values_list("pair_id", flat=True))
    rows = [i for i, pid in enumerate(pairs.ids) if pid in held]
    margins = score_with_sequence_classifier(
        model_path=model.path,
        prompts=[pairs.prompts[i] for i in rows],
        chosen=[pairs.chosen[i] for i in rows],
        rejected=[pairs.rejected[i] for i in rows],
        max_length=64,
        use_chat_template=False,
    )
    assert accuracy(np.asarray(margins)) == pytest.approx(run.metrics["accuracy"])
    assert Encoder(EncoderConfig(model=model.path)).dim == 32  # usable as an encoder too
