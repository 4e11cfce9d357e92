"""Test data: real HH-RLHF pairs, and synthetic pairs where the right answer is known."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workers.rm.text import hh_prompt_messages

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Pairs:
    prompts: list[list[dict[str, str]]]
    chosen: list[str]
    rejected: list[str]

    def head(self, n: int) -> Pairs:
        return Pairs(self.prompts[:n], self.chosen[:n], self.rejected[:n])


def load_hh_sample() -> Pairs:
    """300 real pairs from Anthropic hh-rlhf, helpful-base test split (see data/LICENSE)."""
    with (DATA / "hh_sample.jsonl").open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    return Pairs(
        prompts=[hh_prompt_messages(r["prompt"]) for r in records],
        chosen=[r["chosen"].strip() for r in records],
        rejected=[r["rejected"].strip() for r in records],
    )


def planted_pairs(*, n_pairs: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm (chosen, rejected) embeddings where one hidden direction decides which response
    is better, every pair labelled correctly: a task a linear head can learn."""
    rng = np.random.default_rng(seed)
    direction = rng.standard_normal(dim)
    a = rng.standard_normal((n_pairs, dim))
    b = rng.standard_normal((n_pairs, dim))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    a_better = ((a - b) @ direction > 0)[:, None]
    chosen = np.where(a_better, a, b).astype(np.float32)
    rejected = np.where(a_better, b, a).astype(np.float32)
    return chosen, rejected
