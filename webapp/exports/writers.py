"""Streaming file writers for exports: blocks of JSON lines in, one dataset file out.

Both writers take the blocks ``streaming.export_rows`` yields (whole lines, each a JSON object)
and keep at most a block or a row group in memory. Data is written exactly as PostgreSQL
produced it: nothing is escaped or rewritten, so every text round-trips byte for byte.
Each writer hashes what it writes as it writes it, so a file's SHA-256 costs no second read.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

# Parquet row groups of about this many bytes of JSON input: big enough for fast readers,
# small enough that the writer's memory stays flat.
ROW_GROUP_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class WrittenFile:
    name: str
    rows: int
    bytes: int
    sha256: str


class HashingFile(io.RawIOBase):
    """A write-only file that hashes and counts the bytes passing through it."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._fh: BinaryIO = open(path, "wb")  # noqa: SIM115 -- closed in close()
        self._sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._sha.update(view)
        self._fh.write(view)
        self.size += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.size

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        super().close()

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


class JsonlWriter:
    """JSON Lines, optionally gzip-compressed (reproducibly: no file name or time in the
    gzip header, so the same rows always give the same bytes and the same SHA-256)."""

    def __init__(self, path: Path, *, gzip_level: int | None = None) -> None:
        self.path = path
        self.rows = 0
        self._raw = HashingFile(path)
        self._out: Any = self._raw
        if gzip_level is not None:
            self._out = gzip.GzipFile(
                filename="", mode="wb", fileobj=self._raw, compresslevel=gzip_level, mtime=0
            )

    def write(self, block: bytes) -> int:
        rows = block.count(b"\n")
        self._out.write(block)
        self.rows += rows
        return rows

    def close(self) -> WrittenFile:
        if self._out is not self._raw:
            self._out.close()
        self._raw.close()
        return WrittenFile(self.path.name, self.rows, self._raw.size, self._raw.sha256)


MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))


def parquet_schema(*, conversational: bool, with_margin: bool, derived: bool = False) -> pa.Schema:
    """The columns of an export, in the order the JSON lines have them; ``derived``: the
    attribute and margin of pairs derived from items."""
    text = MESSAGES if conversational else pa.string()
    fields: list[tuple[str, pa.DataType]] = [
        ("prompt", text),
        ("chosen", text),
        ("rejected", text),
    ]
    if derived:
        fields += [("attribute", pa.string()), ("margin", pa.float64())]
    elif with_margin:
        fields.append(("margin", pa.float64()))
    fields += [
        ("pair_id", pa.int64()),
        ("split", pa.string()),
        ("label_source", pa.string()),
        ("human_agreement", pa.float64()),
        ("mu", pa.float64()),
        ("sigma", pa.float64()),
        ("flags", pa.list_(pa.string())),
    ]
    return pa.schema(fields)


class ParquetWriter:
    """Parquet (zstd), parsed from the JSON lines by pyarrow's reader against a fixed schema, so
    every file of every export has the same column types, nulls or not."""

    def __init__(self, path: Path, *, schema: pa.Schema) -> None:
        self.path = path
        self.rows = 0
        self.schema = schema
        self._raw = HashingFile(path)
        self._writer = pq.ParquetWriter(
            self._raw,
            schema,
            compression="zstd",
            use_dictionary=["split", "label_source", "flags"],
            write_statistics=["pair_id", "split", "label_source", "mu", "sigma"],
        )
        self._pending: list[pa.Table] = []
        self._pending_bytes = 0

    def write(self, block: bytes) -> int:
        table = self._parse(block)
        self._pending.append(table)
        self._pending_bytes += len(block)
        self.rows += table.num_rows
        if self._pending_bytes >= ROW_GROUP_BYTES:
            self._flush()
        return table.num_rows

    def _parse(self, block: bytes) -> pa.Table:
        parse = pa_json.ParseOptions(explicit_schema=self.schema, unexpected_field_behavior="error")
        try:
            return pa_json.read_json(io.BytesIO(block), parse_options=parse)
        except pa.ArrowInvalid as exc:
            if "straddling" not in str(exc):
                raise
            # One line longer than the reader's block size: read the block as a single piece.
            options = pa_json.ReadOptions(block_size=len(block) + 1)
            return pa_json.read_json(io.BytesIO(block), read_options=options, parse_options=parse)

    def _flush(self) -> None:
        if self._pending:
            table = pa.concat_tables(self._pending).select(self.schema.names)
            self._writer.write_table(table, row_group_size=max(1, table.num_rows))
        self._pending, self._pending_bytes = [], 0

    def close(self) -> WrittenFile:
        self._flush()
        self._writer.close()
        self._raw.close()
        return WrittenFile(self.path.name, self.rows, self._raw.size, self._raw.sha256)


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            sha.update(chunk)
    return sha.hexdigest()
