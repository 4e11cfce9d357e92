"""On-disk embedding cache, so rescoring with new ensemble settings never re-embeds a text.

Layout, one folder per encoder setting (the encoder's `cache_key`, hashed):

    <root>/<settings hash>/settings.json          the settings, for people reading the folder
    <root>/<settings hash>/lock                   fcntl lock file
    <root>/<settings hash>/<shard>.npy            float32 (n, D) vectors
    <root>/<settings hash>/<shard>.keys.npy       uint8 (n, 32) sha256 of each text

Shards are immutable and appended, never edited. Each file is written to a temp name and moved
into place with os.replace, vectors before keys, so a shard becomes visible only once whole:
a crash leaves at worst an orphan vectors file. Readers and writers share the lock; only
`compact()`, which merges shards and deletes the old ones, takes it exclusively.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from workers.rm.progress import CancelCheck, CountProgress, raise_if_cancelled

_KEYS_SUFFIX = ".keys.npy"


class EmbeddingSource(Protocol):
    @property
    def cache_key(self) -> Mapping[str, Any]: ...

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: CountProgress | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray: ...


class EmbeddingLookup(Protocol):
    """Anything that gives the embeddings of texts, encoding only those it has not seen: the
    files of EmbeddingCache, or a shared store (store.StoredEmbeddings)."""

    def get_or_compute(
        self,
        texts: Sequence[str],
        encoder: EmbeddingSource,
        *,
        progress: CountProgress | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray: ...


def text_digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def settings_hash(cache_key: Mapping[str, Any]) -> str:
    """24 hex digits naming one encoder setting: a cache folder, a store's setting column."""
    settings = json.dumps(dict(cache_key), sort_keys=True, default=str)
    return hashlib.sha256(settings.encode()).hexdigest()[:24]


@dataclass
class _Index:
    """Where each text digest lives: digest -> (shard position, row)."""

    shards: list[str] = field(default_factory=list)
    rows: dict[bytes, tuple[int, int]] = field(default_factory=dict)


def _save_atomic(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with tmp.open("wb") as handle:
        np.save(handle, array)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class EmbeddingCache:
    def __init__(self, root: Path, *, chunk_size: int = 4096, max_shards: int = 256) -> None:
        # chunk_size: texts embedded per shard, so a cancelled or crashed job keeps its work.
        # max_shards: merge shards beyond this many, so that opening the cache stays fast.
        self.root = Path(root)
        self.chunk_size = chunk_size
        self.max_shards = max_shards
        self._indexes: dict[Path, _Index] = {}

    def folder(self, cache_key: Mapping[str, Any]) -> Path:
        settings = json.dumps(dict(cache_key), sort_keys=True, default=str)
        folder = self.root / settings_hash(cache_key)
        if not (folder / "settings.json").exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".settings.{uuid.uuid4().hex}.tmp"
            tmp.write_text(settings)
            os.replace(tmp, folder / "settings.json")
        return folder

    def get_or_compute(
        self,
        texts: Sequence[str],
        encoder: EmbeddingSource,
        *,
        progress: CountProgress | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray:
        """Embeddings of `texts` in order, float32 (N, D); only texts never seen are encoded."""
        folder = self.folder(encoder.cache_key)
        digests = [text_digest(text) for text in texts]
        with _locked(folder, exclusive=False):
            index = self._refresh(folder)
            missing: dict[bytes, str] = {}
            for digest, text in zip(digests, texts, strict=True):
                if digest not in index.rows and digest not in missing:
                    missing[digest] = text
        self._compute(folder, missing, encoder, progress=progress, cancel=cancel)
        with _locked(folder, exclusive=False):
            vectors = self._gather(folder, digests)
        if len(self._indexes[folder].shards) > self.max_shards:
            self.compact(encoder.cache_key)
        return vectors

    def compact(self, cache_key: Mapping[str, Any]) -> None:
        """Merge all shards of one setting into one, dropping duplicate texts."""
        folder = self.folder(cache_key)
        with _locked(folder, exclusive=True):
            index = self._refresh(folder, rebuild=True)
            if len(index.shards) < 2:
                return
            digests = list(index.rows)
            vectors = self._gather(folder, digests)
            keys = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(len(digests), 32)
            self._write_shard(folder, vectors=vectors, keys=keys)
            for name in index.shards:
                (folder / f"{name}{_KEYS_SUFFIX}").unlink()
                (folder / f"{name}.npy").unlink()
            self._refresh(folder, rebuild=True)

    def _compute(
        self,
        folder: Path,
        missing: dict[bytes, str],
        encoder: EmbeddingSource,
        *,
        progress: CountProgress | None,
        cancel: CancelCheck | None,
    ) -> None:
        digests, texts = list(missing), list(missing.values())
        total = len(texts)
        for start in range(0, total, self.chunk_size):
            raise_if_cancelled(cancel)
            chunk = texts[start : start + self.chunk_size]

            def chunk_progress(done: int, _: int, offset: int = start) -> None:
                if progress is not None:
                    progress(offset + done, total)

            vectors = np.asarray(
                encoder.encode(chunk, progress=chunk_progress, cancel=cancel), dtype=np.float32
            )
            if vectors.ndim != 2 or len(vectors) != len(chunk):
                raise ValueError(f"encoder returned shape {vectors.shape} for {len(chunk)} texts")
            if not np.isfinite(vectors).all():
                raise ValueError("encoder returned non-finite embeddings; nothing was cached")
            keys = np.frombuffer(b"".join(digests[start : start + len(chunk)]), dtype=np.uint8)
            with _locked(folder, exclusive=False):
                self._write_shard(folder, vectors=vectors, keys=keys.reshape(len(chunk), 32))

    def _write_shard(self, folder: Path, *, vectors: np.ndarray, keys: np.ndarray) -> None:
        name = f"shard-{os.getpid()}-{uuid.uuid4().hex}"
        _save_atomic(folder / f"{name}.npy", vectors)
        # Keys last: the shard exists for readers only once its vectors are complete.
        _save_atomic(folder / f"{name}{_KEYS_SUFFIX}", keys)

    def _refresh(self, folder: Path, *, rebuild: bool = False) -> _Index:
        """Load shards added since the last call; start over if compaction removed some."""
        on_disk = sorted(p.name[: -len(_KEYS_SUFFIX)] for p in folder.glob(f"*{_KEYS_SUFFIX}"))
        index = self._indexes.get(folder)
        if index is None or rebuild or not set(index.shards) <= set(on_disk):
            index = _Index()
            self._indexes[folder] = index
        known = set(index.shards)
        for name in on_disk:
            if name in known:
                continue
            position = len(index.shards)
            index.shards.append(name)
            keys = np.load(folder / f"{name}{_KEYS_SUFFIX}")
            for row, key in enumerate(keys):
                # setdefault: a text cached twice by racing workers keeps its first copy.
                index.rows.setdefault(key.tobytes(), (position, row))
        return index

    def _gather(self, folder: Path, digests: Sequence[bytes]) -> np.ndarray:
        index = self._refresh(folder)
        where = np.array([index.rows[d] for d in digests], dtype=np.int64).reshape(-1, 2)
        out: np.ndarray | None = None
        for position in np.unique(where[:, 0]):
            take = np.flatnonzero(where[:, 0] == position)
            shard = np.load(folder / f"{index.shards[position]}.npy", mmap_mode="r")
            if out is None:
                out = np.empty((len(digests), shard.shape[1]), dtype=np.float32)
            out[take] = shard[where[take, 1]]
        if out is None:
            return np.empty((0, 0), dtype=np.float32)
        return out


@contextmanager
def _locked(folder: Path, *, exclusive: bool) -> Iterator[None]:
    with (folder / "lock").open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
