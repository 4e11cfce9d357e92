"""Rows of ``COPY (query) TO STDOUT (FORMAT binary)``, one text value each, streamed as blocks
of newline-separated lines: on the current connection, or on several connections at once with
the blocks still in statement order.

COPY's binary format sends each text value as it is, after its length: the text format would
escape every backslash (and JSON text has plenty) and the CSV format looks at every byte for
its quote character, each a pass over all the lines. Each row of the stream is one COPY data
message (PostgreSQL sends one per row): a field count (2 bytes, here 1), the value's length
(4 bytes) and the value; the first message starts with the format's header and the last one
is the trailer, a field count of -1.

A query's one column holds a piece of one or more lines, joined by newlines, without one at
its end (``webapp.exports.selectors`` builds them): a block is whole pieces, each followed by
a newline, so it is whole lines.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from django.db import connection

Statement = tuple[str, dict[str, Any]]  # SQL with %(name)s placeholders, and their values

_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00"
_HEADER_BYTES = len(_BINARY_HEADER) + 8  # signature, flags, header extension length (0)
_ROW_PREFIX = 6
_TRAILER = b"\xff\xff"


def copy_out(raw: Any, sql: str, params: dict[str, Any], *, work_mem: str) -> Iterator[memoryview]:
    """The rows of ``COPY (sql) TO STDOUT`` on a psycopg cursor, one text value each, in a
    transaction of their own whose statements may use ``work_mem`` for sorts and hashes."""
    # COPY takes no bind parameters: psycopg quotes them into the statement client-side
    statement = psycopg.ClientCursor(raw.connection).mogrify(sql, params)
    with raw.connection.transaction():
        raw.execute(f"SET LOCAL work_mem = '{work_mem}'")
        with raw.copy(f"COPY ({statement}) TO STDOUT (FORMAT binary)") as copy:
            first = True
            for data in copy:
                row = memoryview(data)
                if first:
                    if bytes(row[: len(_BINARY_HEADER)]) != _BINARY_HEADER:
                        raise psycopg.DataError("COPY sent no binary header")
                    row, first = row[_HEADER_BYTES:], False
                if not row or row == _TRAILER:  # a header sent alone, or the end
                    continue
                if int.from_bytes(row[2:_ROW_PREFIX], "big", signed=True) != len(row) - _ROW_PREFIX:
                    raise psycopg.DataError("a COPY data message held other than one row")
                yield row[_ROW_PREFIX:]


def _lines(pieces: list[memoryview]) -> bytes:
    """Pieces of lines as one block, each line ending in a newline, copied once."""
    return b"\n".join([*pieces, b""])


def blocks(
    raw: Any, sql: str, params: dict[str, Any], *, block_bytes: int, work_mem: str
) -> Iterator[bytes]:
    """The lines of one COPY statement, as blocks of whole lines of about block_bytes."""
    pieces: list[memoryview] = []
    size = 0
    for piece in copy_out(raw, sql, params, work_mem=work_mem):
        pieces.append(piece)
        size += len(piece) + 1
        if size >= block_bytes:
            yield _lines(pieces)
            pieces, size = [], 0
    if pieces:
        yield _lines(pieces)


def serial_blocks(
    statements: list[Statement], *, block_bytes: int, work_mem: str
) -> Iterator[bytes]:
    """The blocks of each statement in turn, on Django's connection, and an empty block after
    each statement's: the connection is free then."""
    with connection.cursor() as cursor:
        for sql, params in statements:
            yield from blocks(
                cursor.cursor, sql, params, block_bytes=block_bytes, work_mem=work_mem
            )
            yield b""


_DONE = object()


def parallel_blocks(
    statements: list[Statement],
    *,
    streams: int,
    block_bytes: int,
    buffer_bytes: int,
    work_mem: str,
) -> Iterator[bytes]:
    """The blocks of each statement in turn, and an empty block after each statement's, as
    serial_blocks gives them, but the statements run ``streams`` at a time, each on a connection
    of its worker thread (Django gives every thread its own): the caller makes sure that no
    transaction is open, whose uncommitted rows the other connections would not see. A worker
    hands its blocks over through a bounded queue of about ``buffer_bytes``, so a stream that is
    ahead waits rather than grows."""
    stop = threading.Event()
    depth = max(2, buffer_bytes // block_bytes)
    queues = [queue.Queue[Any](maxsize=depth) for _ in statements]

    def put(q: queue.Queue[Any], item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def work(index: int) -> None:
        q = queues[index]
        if stop.is_set():
            return
        sql, params = statements[index]
        try:
            with connection.cursor() as cursor:
                for block in blocks(
                    cursor.cursor, sql, params, block_bytes=block_bytes, work_mem=work_mem
                ):
                    if not put(q, block):
                        return
            put(q, _DONE)
        except BaseException as exc:  # handed to the reader, which raises it
            put(q, exc)
        finally:
            connection.close()  # this thread's own connection

    pool = ThreadPoolExecutor(max_workers=streams, thread_name_prefix="copy-out")
    try:
        for index in range(len(statements)):
            pool.submit(work, index)
        for q in queues:
            while (item := q.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
            yield b""
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
