"""The JSON lines of one split file, streamed out of PostgreSQL in blocks: the statements of
``selectors.export_sql`` over consecutive pair id ranges, run by COPY on one connection or on
several at once (``webapp.dbbackend.copy_binary``), the blocks in pair id order either way.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.db import connection

from webapp.dbbackend import copy_binary
from webapp.exports.selectors import ExportSpec, ScoreSource, export_sql
from webapp.projects.models import Project

# Bytes of JSON lines handed to a writer at a time: the unit of memory of an export.
BLOCK_BYTES = 8 * 1024 * 1024
# Pair ids per COPY statement: between two statements an export may record its progress.
# PostgreSQL sorts a statement's lines into pieces; those of 20k HH-RLHF pairs (about 22 MB)
# sort in WORK_MEM, those of 100k spilled to disk.
CHUNK_IDS = 20_000
# Connections that build an export's rows at once (PostgreSQL runs one statement on one core)
# and the bytes of rows each may have waiting for the writer.
# Several streams take smaller id ranges, so one range's rows fit in what a stream may buffer.
# None: settings.EXPORT_STREAMS.
STREAMS: int | None = None
STREAM_BUFFER_BYTES = 24 * 1024 * 1024
PARALLEL_CHUNK_IDS = 10_000
# Memory for one statement's sorts and hashes (the server's default, 4 MB, spills to disk).
WORK_MEM = "64MB"


def export_rows(
    *,
    project: Project,
    spec: ExportSpec,
    split: str,
    source: ScoreSource | None = None,
    witnesses: list[int] | None = None,
    id_range: tuple[int, int] | None = None,
    chunk_ids: int | None = None,
    block_bytes: int | None = None,
    streams: int | None = None,
) -> Iterator[bytes]:
    """The JSON lines of one split file, as blocks of whole lines (each ending in a newline)
    of about ``block_bytes``, streamed from PostgreSQL by COPY: flat memory at any size.

    The ``witnesses`` pairs (see selectors.WITNESSES) come first, then the others in id order,
    one COPY per ``chunk_ids`` (CHUNK_IDS) ids of ``id_range``. Between two COPY statements the
    generator yields an empty block: the caller's database connection is free then (and,
    with several streams, always).

    With ``streams`` (STREAMS) above 1 and no transaction open, the statements run on that many
    connections of their own at once, each a few statements ahead of the one being read,
    with at most STREAM_BUFFER_BYTES waiting per stream: PostgreSQL builds the rows of
    several id ranges in parallel, and the blocks still come out in order, exactly as one
    connection gives them. Inside a transaction (uncommitted rows are invisible to other
    connections) one connection does it all.
    """
    block_bytes = block_bytes or BLOCK_BYTES
    streams = streams or STREAMS or settings.EXPORT_STREAMS
    lo, hi = id_range or (0, 2**63 - 1)
    parallel = streams > 1 and not connection.in_atomic_block
    chunk_ids = chunk_ids or (PARALLEL_CHUNK_IDS if parallel else CHUNK_IDS)
    step = chunk_ids if id_range else hi + 1  # no range given: one statement
    ranges: list[tuple[int, int, bool]] = [(lo, hi, True)] if witnesses else []
    start = lo
    while start <= hi:
        end = min(hi, start + step - 1)
        ranges.append((start, end, False))
        start = end + 1
    statements = []
    for first_id, last_id, first in ranges:
        sql, params = export_sql(
            project=project,
            spec=spec,
            split=split,
            source=source,
            witnesses=witnesses,
            first=first,
            id_range=(first_id, last_id),
        )
        statements.append((sql, params))
    if parallel and len(statements) > 1:
        yield from copy_binary.parallel_blocks(
            statements,
            streams=streams,
            block_bytes=block_bytes,
            buffer_bytes=STREAM_BUFFER_BYTES,
            work_mem=WORK_MEM,
        )
    else:
        yield from copy_binary.serial_blocks(statements, block_bytes=block_bytes, work_mem=WORK_MEM)
