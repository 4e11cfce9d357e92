"""Real pairs from ../shared/data and their embeddings, as the reward-model benchmarks read them.

The bundled MiniLM, frozen, at max_length 128 (MiniLM was trained at 256; 128 halves the cold
embedding time, and texts are cut from the left so each response's end survives). One cache
for all under var/bench-embeddings (git ignores var/): bench_strength, bench_cleaning and
bench_checks embed each text once between them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from webapp.imports.formats import ParsedPair, open_records
from workers.rm import EmbeddingCache, Encoder, EncoderConfig, EnsembleConfig, embed_pairs

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "var" / "bench-embeddings"

MAX_LENGTH = 128


@dataclass
class Features:
    """Per pair, the features of the stored chosen and rejected response."""

    chosen: np.ndarray
    rejected: np.ndarray
    same_text: np.ndarray  # (N,) bool, chosen and rejected responses identical

    def take(self, rows: np.ndarray) -> Features:
        return Features(self.chosen[rows], self.rejected[rows], self.same_text[rows])


def read_pairs(path: Path) -> list[ParsedPair]:
    """The records of a file that the importer accepts as pairs; the others are left out."""
    with open_records(path) as records:
        return [pair for pair in records if isinstance(pair, ParsedPair)]


def hh_test_pairs(split: str) -> list[ParsedPair]:
    """The pairs of an HH-RLHF test split, e.g. "helpful-base"."""
    return read_pairs(DATA / "hh-rlhf" / f"{split}_test.jsonl.gz")


def offline_encoder() -> tuple[Encoder, EmbeddingCache]:
    """The MiniLM encoder at MAX_LENGTH, with no model hub access, and the shared cache."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return Encoder(EncoderConfig(max_length=MAX_LENGTH)), EmbeddingCache(CACHE)


def features_as_stored(
    pairs: Sequence[ParsedPair], *, encoder: Encoder, cache: EmbeddingCache
) -> Features:
    """The default ensemble's features (EnsembleConfig: features and encoder layers) with
    response_a as chosen: the label as stored."""
    chosen = [p.response_a for p in pairs]
    rejected = [p.response_b for p in pairs]
    x_chosen, x_rejected = embed_pairs(
        prompts=[p.prompt for p in pairs],
        chosen=chosen,
        rejected=rejected,
        encoder=encoder,
        cache=cache,
        features=EnsembleConfig().features,
        layers=EnsembleConfig().encoder_layers,
    )
    same = np.array([a.strip() == b.strip() for a, b in zip(chosen, rejected, strict=True)])
    return Features(x_chosen, x_rejected, same)
