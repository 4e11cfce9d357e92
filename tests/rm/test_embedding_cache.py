"""Behaviour 4: the embedding cache embeds each text once per encoder setting."""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workers.rm import EmbeddingCache, Encoder, EncoderConfig
from workers.rm.progress import Cancelled


class CountingEncoder:
    """Deterministic fake vectors from each text's hash; counts the texts it is asked for."""

    def __init__(self, *, max_length: int = 256, dim: int = 8) -> None:
        self.max_length, self.dim = max_length, dim
        self.encoded: list[str] = []

    @property
    def cache_key(self) -> dict[str, Any]:
        return {"encoder": "counting", "max_length": self.max_length, "pooling": "mean"}

    def encode(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        """Ignores progress and cancel: the cache's own checks between chunks are under test."""
        self.encoded.extend(texts)
        return np.stack([vector(text, self.dim, self.max_length) for text in texts])


def vector(text: str, dim: int = 8, max_length: int = 256) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(f"{max_length}:{text}".encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


def expected(texts: Sequence[str], max_length: int = 256) -> np.ndarray:
    return np.stack([vector(text, 8, max_length) for text in texts])


def test_a_second_call_computes_nothing(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    texts = [f"text {i}" for i in range(50)]
    first = EmbeddingCache(tmp_path).get_or_compute(texts, encoder)
    assert len(encoder.encoded) == 50
    np.testing.assert_array_equal(first, expected(texts))

    encoder.encoded.clear()
    # A new cache object on the same folder: another worker process, say.
    again = EmbeddingCache(tmp_path).get_or_compute(list(reversed(texts)), encoder)
    assert encoder.encoded == []
    np.testing.assert_array_equal(again, expected(list(reversed(texts))))


def test_only_new_texts_are_computed_and_repeats_once(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    cache = EmbeddingCache(tmp_path)
    cache.get_or_compute(["a", "b"], encoder)
    encoder.encoded.clear()
    out = cache.get_or_compute(["b", "c", "c", "a", "d"], encoder)
    assert sorted(encoder.encoded) == ["c", "d"]
    np.testing.assert_array_equal(out, expected(["b", "c", "c", "a", "d"]))


def test_different_settings_miss(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    short, long = CountingEncoder(max_length=128), CountingEncoder(max_length=256)
    cache.get_or_compute(["same text"], short)
    out = cache.get_or_compute(["same text"], long)
    assert long.encoded == ["same text"]
    np.testing.assert_array_equal(out, expected(["same text"], max_length=256))


def test_the_real_encoder_key_changes_with_max_length_but_not_device(encoder: Encoder) -> None:
    key = encoder.cache_key
    assert Encoder(EncoderConfig(max_length=32, device="cpu")).cache_key != key
    assert Encoder(EncoderConfig(max_length=64, device="cpu", dtype="float32")).cache_key == key


def test_a_cancelled_job_keeps_the_chunks_it_finished(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    cache = EmbeddingCache(tmp_path, chunk_size=10)
    texts = [f"t{i}" for i in range(35)]
    with pytest.raises(Cancelled):
        cache.get_or_compute(texts, encoder, cancel=lambda: len(encoder.encoded) >= 20)
    assert len(encoder.encoded) == 20
    encoder.encoded.clear()
    cache.get_or_compute(texts, encoder)
    assert encoder.encoded == texts[20:]


def test_compaction_merges_shards_and_keeps_every_vector(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    cache = EmbeddingCache(tmp_path, chunk_size=5, max_shards=3)
    texts = [f"t{i}" for i in range(23)]
    cache.get_or_compute(texts, encoder)
    folder = cache.folder(encoder.cache_key)
    assert len(list(folder.glob("*.keys.npy"))) == 1
    encoder.encoded.clear()
    fresh = EmbeddingCache(tmp_path).get_or_compute(texts, encoder)
    assert encoder.encoded == []
    np.testing.assert_array_equal(fresh, expected(texts))


def _write_in_other_process(root: str, start: int) -> None:
    cache = EmbeddingCache(Path(root), chunk_size=7, max_shards=4)
    for offset in range(0, 60, 20):
        texts = [f"t{i}" for i in range(start + offset, start + offset + 30)]
        cache.get_or_compute(texts, CountingEncoder())


def test_concurrent_writers_do_not_corrupt_it(tmp_path: Path) -> None:
    # spawn, not fork: the test process has threads (database, browser driver), and a child
    # forked while one of them holds a lock can hang for ever
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_write_in_other_process, args=(str(tmp_path), start))
        for start in (0, 15, 30)
    ]
    try:
        for process in workers:
            process.start()
        for process in workers:
            process.join(timeout=120)
            assert process.exitcode == 0
    finally:
        for process in workers:
            if process.is_alive():
                process.kill()
    encoder = CountingEncoder()
    texts = [f"t{i}" for i in range(100)]
    out = EmbeddingCache(tmp_path).get_or_compute(texts, encoder)
    assert encoder.encoded == []
    np.testing.assert_array_equal(out, expected(texts))
