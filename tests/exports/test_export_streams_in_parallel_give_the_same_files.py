"""Several connections building an export's rows at once give the same files, byte for byte,
as one connection; a stream that runs ahead waits for the writer rather than filling memory;
and the streams' connections are closed when the export ends."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tests.exports.helpers import add_scores, add_votes, make_pairs
from webapp.dbbackend import copy_binary
from webapp.exports import streaming
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write


def _export(project: Any, fmt: str) -> Any:
    snapshot = export_create(
        project=project, file_format=fmt, spec=ExportSpec(with_margin=True), enqueue=False
    )
    return export_write(snapshot=snapshot)


def _alive(pids: set[int]) -> set[int]:
    """Those of the backends ``pids`` still connected. Counting every connection to the test
    database would count the session's live worker and web server too, which come and go."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", [list(pids)])
        return {int(row[0]) for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_parallel_streams_write_the_same_bytes(
    project: Any, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = make_pairs(project, 40)
    add_scores(project, made, flag_ids=(made.pairs[5].pk, made.pairs[17].pk))
    add_votes(made.pairs[9], ["a", "b", "b"])
    monkeypatch.setattr(streaming, "STREAMS", 1)
    one = _export(project, fmt)
    statements: list[int] = []
    original = copy_binary.parallel_blocks
    stream_pids: set[int] = set()
    original_blocks = copy_binary.blocks

    def recording(cursor: Any, *args: Any, **kwargs: Any) -> Any:
        stream_pids.add(cursor.connection.info.backend_pid)
        return original_blocks(cursor, *args, **kwargs)

    monkeypatch.setattr(copy_binary, "blocks", recording)

    def counting(statements_in: list[Any], **kwargs: Any) -> Any:
        statements.append(len(statements_in))
        return original(statements_in, **kwargs)

    monkeypatch.setattr(copy_binary, "parallel_blocks", counting)
    monkeypatch.setattr(streaming, "STREAMS", 3)
    monkeypatch.setattr(streaming, "PARALLEL_CHUNK_IDS", 4)
    monkeypatch.setattr(streaming, "BLOCK_BYTES", 300)
    monkeypatch.setattr(streaming, "STREAM_BUFFER_BYTES", 600)  # two blocks, then a stream waits
    many = _export(project, fmt)
    assert statements and max(statements) > 3  # the parallel path ran, on many id ranges
    assert [f["sha256"] for f in many.files[:-1]] == [f["sha256"] for f in one.files[:-1]]
    assert many.row_count == one.row_count > 10
    assert len(stream_pids) > 1  # several connections streamed
    assert not _alive(stream_pids)  # and none of them is left open
