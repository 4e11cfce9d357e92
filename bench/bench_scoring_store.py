"""The embedding store every worker reaches (PostgreSQL) against the file cache, on 200k texts.

200k unit vectors of 768 dims (the default features' width per text: two encoder layers of
384) go in through each store's own lookup, as a scoring run writes them, then are read back
by a fresh lookup, as another worker would: texts per second each way, and bytes per vector
on disk (float16 rows and their primary key in PostgreSQL; float32 .npy shards and 32-byte
keys in files). A stand-in 'encoder' hands out the vectors, so the figures are the stores'.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

Figures = Callable[[str, float, str], None]
TEXTS = 200_000
DIM = 768


class _Vectors:
    def __init__(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.rows = {t: i for i, t in enumerate(texts)}
        self.vectors = vectors

    @property
    def cache_key(self) -> dict[str, Any]:
        return {"encoder": "bench-store-vectors", "dim": DIM}

    def encode(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        return self.vectors[[self.rows[t] for t in texts]]


def run(figures: Figures) -> None:
    from django.db import connection

    from bench.db import bench_database
    from webapp.scoring.store import TABLE, stored_embeddings
    from workers.rm import EmbeddingCache

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((TEXTS, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [f"bench text {i}" for i in range(TEXTS)]
    source = _Vectors(texts, vectors)
    with bench_database(), tempfile.TemporaryDirectory() as folder:
        lookups: dict[str, Callable[[], Any]] = {
            "file": lambda: EmbeddingCache(Path(folder)),
            "postgres": stored_embeddings,
        }
        for name, lookup in lookups.items():
            started = time.perf_counter()
            lookup().get_or_compute(texts, source)
            wrote = time.perf_counter() - started
            started = time.perf_counter()
            back = lookup().get_or_compute(texts, source)
            read = time.perf_counter() - started
            assert float(np.abs(back - vectors).max()) < 1e-3  # float16 rounding at most
            if name == "file":
                size = sum(p.stat().st_size for p in Path(folder).rglob("*.npy"))
            else:
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE " + TABLE)
                    cursor.execute("SELECT pg_total_relation_size(%s)", [TABLE])
                    size = int(cursor.fetchone()[0])
            figures(f"{name}_write_texts_per_s", TEXTS / wrote, "texts/s")
            figures(f"{name}_read_texts_per_s", TEXTS / read, "texts/s")
            figures(f"{name}_bytes_per_vector", size / TEXTS, "B")
