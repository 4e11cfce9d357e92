"""Embeddings kept in a store that every worker reaches, whatever machine it runs on.

The store itself lives outside this package (PrefLab's is a PostgreSQL table,
webapp/scoring/store.py); here is what it must do, and the lookup that encodes only the texts
it lacks. It is content-addressed: a vector is named by the sha256 of its text and the hash of
the encoder setting (cache.settings_hash), so a rescoring, or a second worker, never encodes a
text twice, and a vector written twice (two workers racing on one text) is the same vector.

Vectors are kept as float16: half the bytes of float32, and the heads read unit-length
embeddings whose float16 rounding (about 5e-4 per component) is far below what moves a margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from workers.rm.cache import EmbeddingSource, settings_hash, text_digest
from workers.rm.progress import CancelCheck, CountProgress, raise_if_cancelled


class VectorStore(Protocol):
    def present(self, *, setting: str, digests: Sequence[bytes]) -> set[bytes]:
        """The digests of ``digests`` that the store holds a vector for under ``setting``."""
        ...

    def read(self, *, setting: str, digests: Sequence[bytes]) -> np.ndarray:
        """(N, D) float32 vectors of ``digests`` in order; KeyError naming one it lacks."""
        ...

    def write(self, *, setting: str, digests: Sequence[bytes], vectors: np.ndarray) -> None:
        """Keep (N, D) ``vectors`` under their digests; a digest already held keeps its own."""
        ...


def unique_missing(
    *, store: VectorStore, setting: str, texts: Sequence[str]
) -> tuple[list[bytes], list[str]]:
    """The texts of ``texts`` the store lacks, each once, with their digests."""
    digests = [text_digest(text) for text in texts]
    held = store.present(setting=setting, digests=digests)
    missing: dict[bytes, str] = {}
    for digest, text in zip(digests, texts, strict=True):
        if digest not in held and digest not in missing:
            missing[digest] = text
    return list(missing), list(missing.values())


def encode_into(
    *,
    store: VectorStore,
    setting: str,
    digests: Sequence[bytes],
    texts: Sequence[str],
    encoder: EmbeddingSource,
    chunk_size: int = 1024,
    progress: CountProgress | None = None,
    cancel: CancelCheck | None = None,
) -> None:
    """Encode ``texts`` and write them to the store a chunk at a time, so a worker that dies
    keeps what it finished."""
    total = len(texts)
    for start in range(0, total, chunk_size):
        raise_if_cancelled(cancel)
        chunk = texts[start : start + chunk_size]

        def chunk_progress(done: int, _: int, offset: int = start) -> None:
            if progress is not None:
                progress(offset + done, total)

        vectors = np.asarray(encoder.encode(chunk, progress=chunk_progress, cancel=cancel))
        if vectors.ndim != 2 or len(vectors) != len(chunk):
            raise ValueError(f"encoder returned shape {vectors.shape} for {len(chunk)} texts")
        if not np.isfinite(vectors).all():
            raise ValueError("encoder returned non-finite embeddings; nothing was stored")
        store.write(setting=setting, digests=digests[start : start + len(chunk)], vectors=vectors)


class StoredEmbeddings:
    """An EmbeddingLookup (cache.EmbeddingLookup) over a VectorStore."""

    def __init__(self, store: VectorStore, *, chunk_size: int = 1024) -> None:
        self.store = store
        self.chunk_size = chunk_size

    def get_or_compute(
        self,
        texts: Sequence[str],
        encoder: EmbeddingSource,
        *,
        progress: CountProgress | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray:
        setting = settings_hash(encoder.cache_key)
        digests, missing = unique_missing(store=self.store, setting=setting, texts=texts)
        encode_into(
            store=self.store,
            setting=setting,
            digests=digests,
            texts=missing,
            encoder=encoder,
            chunk_size=self.chunk_size,
            progress=progress,
            cancel=cancel,
        )
        return self.store.read(setting=setting, digests=[text_digest(t) for t in texts])


def to_float16_bytes(vectors: np.ndarray) -> list[bytes]:
    """One little-endian float16 row of bytes per vector, as the store keeps them."""
    half = np.ascontiguousarray(vectors, dtype="<f2")
    return [row.tobytes() for row in half]


def from_float16_bytes(rows: Sequence[bytes], *, dim: int) -> np.ndarray:
    """(N, dim) float32 from rows of float16 bytes."""
    if not rows:
        return np.empty((0, dim), dtype=np.float32)
    flat = np.frombuffer(b"".join(rows), dtype="<f2")
    if flat.size != len(rows) * dim:
        raise ValueError(f"stored vectors are not all {dim} wide")
    return flat.reshape(len(rows), dim).astype(np.float32)
