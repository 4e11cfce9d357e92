"""A scoring run end to end against the bare forward pass of its encoder, in the same run.

Real HH-RLHF pairs imported into a project, one scoring run with the default options from
scoring_run_create to its stored scores and the follow-up steps of webapp/pipeline.py; this
process is its coordinator and, no worker listening, encodes every shard itself. Throughput
is unique texts per second; the bare pass is the encoder's forward alone over the same texts,
tokenised and batched beforehand, with the same threads. Target: 0.9 of it.

Then the same run again: every text comes from the embedding store (no shard at all).
From the measured cost per text: projected hours for 1M pairs (4 texts each, the default
features) on one worker of this machine's kind, cpu here; a GPU worker's figure comes from
running this benchmark where cuda is available, and is not reported otherwise.

BENCH_E2E_PAIRS sets the pairs (default 150: on a 2-core machine shared with others, the
encoder runs at about 10 texts/s, and the benchmark must stay within minutes).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

Figures = Callable[[str, float, str], None]
NEEDS_SHARED_DATA = True
PAIRS = int(os.environ.get("BENCH_E2E_PAIRS", "150"))


def run(figures: Figures) -> None:
    import torch

    from bench.db import bench_database
    from bench.scoring_runs import hh_records, project_with, score_in_process, texts_of
    from webapp.scoring.services import ScoringOptions
    from webapp.scoring.shards import worker_threads
    from workers.rm import Encoder, EncoderConfig, EnsembleConfig
    from workers.rm.text import tokenize_left

    with bench_database():
        project = project_with(hh_records(PAIRS), "bench e2e")
        options = ScoringOptions()
        unique = list(dict.fromkeys(texts_of(project, options)))
        run, seconds = score_in_process(project, options)
        encoding = run.config["encoding"]
        assert encoding["shards"] >= 1 and encoding["cached"] == 0, encoding
        config = EncoderConfig(max_length=options.max_length, threads=worker_threads())
        encoder = Encoder(config).with_layers(EnsembleConfig().encoder_layers)
        ids = tokenize_left(tokenizer=encoder.tokenizer, texts=unique, max_length=config.max_length)
        encoder.forward_only(ids[:32])  # warm
        started = time.perf_counter()
        forward = encoder.forward_only(ids)
        assert time.perf_counter() - started >= forward
        kind = "gpu" if encoder.device.type == "cuda" else "cpu"
        figures("pairs", float(PAIRS), "pairs")
        figures("texts", float(len(unique)), "texts")
        figures(f"{kind}_end_to_end_texts_per_s", len(unique) / seconds, "texts/s")
        figures(f"{kind}_bare_forward_texts_per_s", len(unique) / forward, "texts/s")
        figures(f"{kind}_end_to_end_vs_forward_ratio", forward / seconds, "x")
        figures(
            f"projected_hours_1m_pairs_per_{kind}_worker", 4e6 * seconds / len(unique) / 3600, "h"
        )
        again, rescoring = score_in_process(project, options)
        assert again.config["encoding"]["shards"] == 0  # every text came from the store
        figures("rescoring_from_store_seconds", rescoring, "s")
        figures("first_scoring_seconds", seconds, "s")
        figures("cuda_available", float(torch.cuda.is_available()), "bool")
