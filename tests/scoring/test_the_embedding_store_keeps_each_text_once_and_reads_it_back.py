"""The PostgreSQL embedding store: vectors come back as written (to float16), a text written
twice keeps its first vector, and settings never mix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from webapp.scoring.models import StoredEmbedding
from webapp.scoring.store import PostgresVectorStore, stored_embeddings
from workers.rm.cache import settings_hash, text_digest


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_it_reads_back_what_it_wrote_and_keeps_the_first_copy(db: Any) -> None:
    store = PostgresVectorStore()
    rng = np.random.default_rng(0)
    digests = [text_digest(f"text {i}") for i in range(7000)]  # more than one lookup statement
    first = _unit(rng, 7000, 16)
    store.write(setting="a" * 24, digests=digests, vectors=first)
    store.write(setting="a" * 24, digests=digests[:10], vectors=_unit(rng, 10, 16))
    assert StoredEmbedding.objects.count() == 7000
    back = store.read(setting="a" * 24, digests=digests[::-1])
    assert np.abs(back - first[::-1]).max() < 1e-3  # float16 rounding, and the first copy
    assert store.present(setting="a" * 24, digests=digests[:3]) == set(digests[:3])
    assert store.present(setting="b" * 24, digests=digests[:3]) == set()
    with pytest.raises(KeyError):
        store.read(setting="b" * 24, digests=digests[:1])


class _Counting:
    """A source that counts the texts it is asked to encode."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    @property
    def cache_key(self) -> dict[str, Any]:
        return {"encoder": "counting", "dim": 4}

    def encode(self, texts: Any, **_: Any) -> np.ndarray:
        self.asked.extend(texts)
        return np.array([[len(t), 1.0, 0.0, 0.0] for t in texts], dtype=np.float32)


def test_a_second_lookup_encodes_nothing_and_a_repeated_text_once(db: Any) -> None:
    source = _Counting()
    texts = ["a", "bb", "a", "ccc"]
    first = stored_embeddings().get_or_compute(texts, source)
    assert sorted(source.asked) == ["a", "bb", "ccc"]
    again = stored_embeddings().get_or_compute([*texts, "dddd"], source)
    assert source.asked[3:] == ["dddd"]
    assert (again[:4] == first).all() and again[:, 0].tolist() == [1, 2, 1, 3, 4]
    assert StoredEmbedding.objects.filter(setting=settings_hash(source.cache_key)).count() == 4


def test_two_settings_of_the_same_texts_in_one_transaction_keep_their_own_vectors(
    db: Any,
) -> None:
    # pytest-django's transaction around each test makes every write a savepoint, as a
    # caller's atomic block would: the second write must not take the first one's rows.
    store = PostgresVectorStore()
    rng = np.random.default_rng(1)
    digests = [text_digest(f"text {i}") for i in range(5)]
    wide, narrow = _unit(rng, 5, 8), _unit(rng, 5, 4)
    store.write(setting="w" * 24, digests=digests, vectors=wide)
    store.write(setting="n" * 24, digests=digests, vectors=narrow)
    assert store.read(setting="n" * 24, digests=digests).shape == (5, 4)
    assert np.abs(store.read(setting="n" * 24, digests=digests) - narrow).max() < 1e-3
    assert np.abs(store.read(setting="w" * 24, digests=digests) - wide).max() < 1e-3
    assert StoredEmbedding.objects.count() == 10
