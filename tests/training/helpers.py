"""Projects with real pairs and a scoring run whose strengths the test chooses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tests.scoring.test_a_scoring_run_on_a_worker_stores_every_labelled_pair import load_pairs
from webapp.pairs.labels import effective_labels
from webapp.scoring.models import PairScore, ScoringRun
from webapp.training.options import TrainingOptions
from workers.rm.flags import strength_deciles

# Small and quick: MiniLM at 64 tokens, a few epochs.
QUICK = {"max_length": 64, "epochs": 3}


def quick(**changes: Any) -> TrainingOptions:
    return TrainingOptions(**(QUICK | changes))


def labelled_project(project: Any, tmp_path: Path, n: int = 60) -> list[int]:
    """Imports n real HH-RLHF pairs (+3 hand-made); the ids of the pairs with an A/B label."""
    load_pairs(project, tmp_path, n=n)
    labels = effective_labels(project=project)
    return sorted(pid for pid, eff in labels.items() if eff.label in ("a", "b"))


def scoring_run_with(project: Any, mu: dict[int, float]) -> ScoringRun:
    """A complete scoring run whose mu per pair is given (label_scored = the label now)."""
    labels = effective_labels(project=project)
    ids = sorted(mu)
    values = np.array([mu[i] for i in ids])
    deciles = strength_deciles(values)
    run = ScoringRun.objects.create(project=project, complete=True, n_pairs=len(ids))
    PairScore.objects.bulk_create(
        PairScore(
            run=run, pair_id=pid, label_scored=labels[pid].label, mu=float(m), sigma=0.1,
            p_label=float(1 / (1 + np.exp(-m))), margins=[float(m)], decile=int(d),
        )
        for pid, m, d in zip(ids, values, deciles, strict=True)
    )  # fmt: skip
    return run
