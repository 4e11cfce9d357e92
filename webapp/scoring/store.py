"""The embedding store every worker reaches: workers/rm/store.py's VectorStore in PostgreSQL.

Workers on other machines already reach the database, so a table needs no new
infrastructure (a network file system for the file cache, an object store). Vectors are
float16 bytes keyed by (setting, digest) (StoredEmbedding). Writes go in by binary COPY into
a temporary table, then one INSERT ... ON CONFLICT DO NOTHING: two workers that encoded the
same text (a shard taken again after its worker was thought dead) both succeed, and the row
first written stays. Reads and lookups ask for a few thousand digests per statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import psycopg
from django.db import connection, transaction

from webapp.scoring.models import StoredEmbedding

TABLE = StoredEmbedding._meta.db_table
# Digests per lookup statement: a bound array this long plans as an index scan, and its
# result (vectors of ~1.5 KiB) stays a few MiB.
_LOOKUP = 5000


def _chunks(digests: Sequence[bytes], size: int) -> Iterator[list[bytes]]:
    for start in range(0, len(digests), size):
        yield [bytes(d) for d in digests[start : start + size]]


class PostgresVectorStore:
    """VectorStore on Django's default connection."""

    def present(self, *, setting: str, digests: Sequence[bytes]) -> set[bytes]:
        held: set[bytes] = set()
        with connection.cursor() as cursor:
            for chunk in _chunks(digests, _LOOKUP):
                cursor.execute(
                    f"SELECT digest FROM {TABLE} WHERE setting = %s AND digest = ANY(%s)",
                    [setting, chunk],
                )
                held.update(bytes(row[0]) for row in cursor.fetchall())
        return held

    def read(self, *, setting: str, digests: Sequence[bytes]) -> np.ndarray:
        from workers.rm.store import from_float16_bytes

        unique = list(dict.fromkeys(bytes(d) for d in digests))
        found: dict[bytes, bytes] = {}
        connection.ensure_connection()
        # A server-side-binding cursor of our own: Django's client-side cursors cannot ask for
        # binary results, and bytea as hex text would be twice the bytes and a decode.
        with psycopg.Cursor(connection.connection) as raw:
            for chunk in _chunks(unique, _LOOKUP):
                raw.execute(
                    f"SELECT digest, vector FROM {TABLE} WHERE setting = %s AND digest = ANY(%s)",
                    [setting, chunk],
                    binary=True,
                )
                found.update((bytes(d), bytes(v)) for d, v in raw.fetchall())
        rows = []
        for digest in digests:
            vector = found.get(bytes(digest))
            if vector is None:
                raise KeyError(f"no stored embedding for text {bytes(digest).hex()[:16]}")
            rows.append(vector)
        dim = len(rows[0]) // 2 if rows else 0
        return from_float16_bytes(rows, dim=dim)

    def write(self, *, setting: str, digests: Sequence[bytes], vectors: np.ndarray) -> None:
        if len(digests) != len(vectors):
            raise ValueError(f"{len(digests)} digests for {len(vectors)} vectors")
        if not len(digests):
            return
        from workers.rm.store import to_float16_bytes

        rows = to_float16_bytes(vectors)
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            raw.execute(
                "CREATE TEMP TABLE IF NOT EXISTS stored_embedding_in "
                "(digest bytea, vector bytea) ON COMMIT DELETE ROWS"
            )
            # Inside an outer transaction (a test, a caller's atomic block) this block is a
            # savepoint and the rows of an earlier write are still here: they would go in
            # again under this write's setting.
            raw.execute("TRUNCATE stored_embedding_in")
            with raw.copy(
                "COPY stored_embedding_in (digest, vector) FROM STDIN (FORMAT binary)"
            ) as copy:
                copy.set_types(["bytea", "bytea"])
                for digest, row in zip(digests, rows, strict=True):
                    copy.write_row((bytes(digest), row))
            raw.execute(
                f"INSERT INTO {TABLE} (setting, digest, vector) "
                "SELECT %s, digest, vector FROM stored_embedding_in "
                "ON CONFLICT (setting, digest) DO NOTHING",
                [setting],
            )


def stored_embeddings() -> Any:
    """The lookup (workers.rm.store.StoredEmbeddings) that scoring encodes through: only texts
    the store lacks are encoded, and what is encoded is stored for every worker."""
    from workers.rm.store import StoredEmbeddings

    return StoredEmbeddings(PostgresVectorStore())


def stored_settings_count(*, setting: str) -> int:
    """How many vectors the store holds under one setting (for the bench and the tests)."""
    return StoredEmbedding.objects.filter(setting=setting).count()
