"""The int8 cpu encoder against fp32: throughput, and whether flip detection holds.

The same real HH-RLHF pairs embedded twice on cpu, by the default encoder in fp32 and with
torch's dynamic int8 quantization of its Linear layers (EncoderConfig.quantize). For each
seed, 20% of the pairs get their label flipped; the default ensemble trains on each
embedding and -mu ranks the flips (AUC). The same flips for both, so the difference has a
paired bootstrap standard error; int8 is kept only if |mean difference| stays within it.

BENCH_INT8_PAIRS sets the pairs (default 300, so that both encodings fit in minutes on a
loaded 2-core machine: the AUCs then have an SE of a few hundredths, and so a small loss
would go unseen: read the figure with that).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

Figures = Callable[[str, float, str], None]
NEEDS_SHARED_DATA = True
PAIRS = int(os.environ.get("BENCH_INT8_PAIRS", "300"))
SEEDS = (0, 1, 2)


def _flipped_scores(
    chosen: np.ndarray, rejected: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    from workers.rm import EnsembleConfig, train_ensemble

    flipped = np.zeros(len(chosen), dtype=bool)
    rows = np.random.default_rng(seed).choice(len(chosen), size=len(chosen) // 5, replace=False)
    flipped[rows] = True
    c = np.where(flipped[:, None], rejected, chosen)
    r = np.where(flipped[:, None], chosen, rejected)
    return flipped, -train_ensemble(chosen=c, rejected=r, config=EnsembleConfig(seed=seed)).mu


def run(figures: Figures) -> None:
    from sklearn.metrics import roc_auc_score

    from bench.bench_strength import _paired_bootstrap_se
    from bench.real_pairs import read_pairs
    from bench.scoring_runs import hh_records
    from webapp.scoring.shards import worker_threads
    from workers.rm import Encoder, EncoderConfig, EnsembleConfig, embed_pairs

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pairs.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in hh_records(PAIRS)))
        pairs = read_pairs(path)
    views = {}
    for name, quantize in (("fp32", "none"), ("int8", "int8")):
        config = EncoderConfig(quantize=quantize, threads=worker_threads(), device="cpu")  # type: ignore[arg-type]
        encoder = Encoder(config)
        started = time.perf_counter()
        views[name] = embed_pairs(
            prompts=[p.prompt for p in pairs],
            chosen=[p.response_a for p in pairs],
            rejected=[p.response_b for p in pairs],
            encoder=encoder,
            features=EnsembleConfig().features,
            layers=EnsembleConfig().encoder_layers,
        )
        figures(f"{name}_texts_per_s", 4 * len(pairs) / (time.perf_counter() - started), "texts/s")
    differences, ses = [], []
    for seed in SEEDS:
        flipped, fp32 = _flipped_scores(*views["fp32"], seed)
        again, int8 = _flipped_scores(*views["int8"], seed)
        assert (flipped == again).all()
        auc_fp32 = float(roc_auc_score(flipped, fp32))
        auc_int8 = float(roc_auc_score(flipped, int8))
        figures(f"flip_auc_fp32_seed{seed}", auc_fp32, "")
        figures(f"flip_auc_int8_seed{seed}", auc_int8, "")
        differences.append(auc_fp32 - auc_int8)
        ses.append(_paired_bootstrap_se(flipped, fp32, int8))
    mean, se = float(np.mean(differences)), float(np.mean(ses))
    figures("pairs", float(len(pairs)), "pairs")
    figures("flip_auc_fp32_minus_int8_mean", mean, "")
    figures("flip_auc_fp32_minus_int8_spread_over_seeds", float(np.std(differences, ddof=1)), "")
    figures("flip_auc_difference_paired_se", se, "")
    figures("int8_holds_auc_within_one_se", float(abs(mean) <= se), "bool")
