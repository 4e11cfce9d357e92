"""Preference-strength speed: rescoring from cached embeddings, and embedding throughput.

(a) 100k pairs, M=8 models, K=5 folds, out-of-fold, the default EnsembleConfig otherwise
    (two rounds of training with label-noise cleaning), from embeddings already in the cache:
    cache lookup + training + scoring. Random unit vectors stand in for MiniLM's, as wide as
    the default features of one response: 384 per encoder layer (EnsembleConfig.encoder_layers)
    and per view (context, response alone). Target: under 60 s on 2 CPU cores.
(b) Encoder.encode against a bare transformers forward pass (AutoModel, same texts, batch size,
    max_length and dtype, masked mean pooling) over ~2000 texts built from real HH-RLHF pairs,
    in the texts' own order and, to isolate Encoder's own overhead, sorted by character length.
    Target: Encoder at least 0.9x the bare pass.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workers.rm import EmbeddingCache, Encoder, EncoderConfig, EnsembleConfig, train_ensemble
from workers.rm.cache import text_digest
from workers.rm.text import hh_prompt_messages, rm_text

Figures = Callable[[str, float, str], None]

N_PAIRS = 100_000
DIM = 384 * max(len(EnsembleConfig().encoder_layers), 1) * 2
N_TEXTS = 2000
SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "rm" / "data" / "hh_sample.jsonl"


class _StoredVectors:
    """An 'encoder' that hands out precomputed vectors, to fill the cache without a model."""

    def __init__(self, vectors: dict[bytes, np.ndarray]) -> None:
        self.vectors = vectors

    @property
    def cache_key(self) -> dict[str, Any]:
        return {"encoder": "bench-random-unit-vectors", "dim": DIM}

    def encode(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        return np.stack([self.vectors[text_digest(text)] for text in texts])


def _unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def bench_cached_rescoring(figures: Figures) -> None:
    rng = np.random.default_rng(0)
    texts = [f"pair {i} response {side}" for side in ("chosen", "rejected") for i in range(N_PAIRS)]
    vectors = _unit_vectors(rng, 2 * N_PAIRS)
    source = _StoredVectors({text_digest(t): v for t, v in zip(texts, vectors, strict=True)})
    with tempfile.TemporaryDirectory() as root:
        EmbeddingCache(Path(root), chunk_size=50_000).get_or_compute(texts, source)
        started = time.perf_counter()
        # A fresh cache object, as a new worker process would have.
        cached = EmbeddingCache(Path(root)).get_or_compute(texts, source)
        looked_up = time.perf_counter()
        result = train_ensemble(
            chosen=cached[:N_PAIRS],
            rejected=cached[N_PAIRS:],
            config=EnsembleConfig(n_models=8, n_folds=5, mode="oof"),
        )
        finished = time.perf_counter()
    assert result.margins.shape == (N_PAIRS, 8)
    figures("strength_oof_100k_m8_k5_seconds", finished - started, "s")
    figures("strength_cache_lookup_200k_texts_seconds", looked_up - started, "s")
    figures("strength_train_score_40_heads_seconds", finished - looked_up, "s")


def _bench_texts() -> list[str]:
    """Reward-model texts from real pairs: each final response, and each earlier assistant turn
    with the conversation before it, cycled to N_TEXTS."""
    pool: list[str] = []
    with SAMPLE.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            turns = hh_prompt_messages(record["prompt"])
            pool.append(rm_text(prompt=turns, response=record["chosen"]))
            pool.append(rm_text(prompt=turns, response=record["rejected"]))
            for i, turn in enumerate(turns):
                if turn["role"] == "assistant" and i > 0:
                    pool.append(rm_text(prompt=turns[:i], response=turn["content"]))
    return [pool[i % len(pool)] for i in range(N_TEXTS)]


def _bare_forward(
    *, model: Any, tokenizer: Any, texts: list[str], config: EncoderConfig
) -> np.ndarray:
    device = next(model.parameters()).device
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), config.batch_size):
            batch = tokenizer(
                texts[start : start + config.batch_size],
                padding=True,
                truncation=True,
                max_length=config.max_length,
                return_tensors="pt",
            ).to(device)
            hidden = model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
    return np.concatenate(out)


def bench_encoder_throughput(figures: Figures) -> None:
    from transformers import AutoModel, AutoTokenizer

    config = EncoderConfig()
    encoder = Encoder(config)
    tokenizer = AutoTokenizer.from_pretrained(config.model)
    model = AutoModel.from_pretrained(config.model, dtype=encoder.dtype).to(encoder.device).eval()
    texts = _bench_texts()
    warm = texts[: config.batch_size]
    encoder.encode(warm)
    _bare_forward(model=model, tokenizer=tokenizer, texts=warm, config=config)

    started = time.perf_counter()
    bare = _bare_forward(model=model, tokenizer=tokenizer, texts=texts, config=config)
    bare_seconds = time.perf_counter() - started
    started = time.perf_counter()
    by_length = sorted(texts, key=len, reverse=True)
    _bare_forward(model=model, tokenizer=tokenizer, texts=by_length, config=config)
    sorted_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ours = encoder.encode(texts)
    ours_seconds = time.perf_counter() - started

    # Same computation where truncation cannot differ (bare cuts right, Encoder cuts left).
    lengths = np.array([len(ids) for ids in tokenizer(texts, verbose=False)["input_ids"]])
    short = lengths <= config.max_length
    figures("encoder_texts_per_second", len(texts) / ours_seconds, "texts/s")
    figures("bare_forward_texts_per_second", len(texts) / bare_seconds, "texts/s")
    figures("bare_sorted_forward_texts_per_second", len(texts) / sorted_seconds, "texts/s")
    figures("encoder_vs_bare_throughput_ratio", bare_seconds / ours_seconds, "x")
    figures("encoder_vs_bare_sorted_throughput_ratio", sorted_seconds / ours_seconds, "x")
    figures("encoder_vs_bare_max_abs_diff", float(np.abs(ours[short] - bare[short]).max()), "")


def run(figures: Figures) -> None:
    bench_cached_rescoring(figures)
    bench_encoder_throughput(figures)
