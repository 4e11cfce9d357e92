"""Stream raw records out of preference-data files, one container at a time.

JSON Lines, a JSON array, pretty-printed JSON objects back to back (a `.json` file whose first
line is a lone "{"), CSV and Parquet; all but Parquet may be gzipped. Each reader yields
`(line, record)` or a `RecordError` for a line it cannot read, in file order, and never holds
more of the file in memory than one record (a JSON array: one read chunk). Pure Python: this
module must not import Django, so it can be tested and benchmarked without a database.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTAINERS = (".jsonl", ".json", ".csv", ".parquet")
_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20  # bytes read at a time from a JSON array; grows for records larger than this
_WS = re.compile(r"[ \t\n\r]*")
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that `surrogateescape` could not decode
_NO_PROGRESS_LIMIT = 1000  # lines read without one readable record before we give up on a file


class FormatError(Exception):
    """A problem with the whole file (unreadable, unknown format, no records, bad mapping)."""


@dataclass(frozen=True, slots=True)
class RecordError:
    file: str  # display name of the file
    line: int  # 1-based line (row for Parquet); 0 for whole-file problems
    field: str  # the field/column at fault, "" if none
    reason: str  # a clear sentence


Item = tuple[int, dict[str, Any]] | RecordError
Stream = gzip.GzipFile | io.BufferedReader


def kind_of(value: object) -> str:
    """How a JSON reader would name the type of `value`, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON and PostgreSQL's jsonb do not.
    raise ValueError(f"{name} is not valid JSON")


class Source:
    """One file being read: its container, byte size and how far reading has got."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        suffixes = [s.lower() for s in path.suffixes]
        self.gzipped = bool(suffixes) and suffixes[-1] == ".gz"
        if self.gzipped:
            suffixes.pop()
        self.container = suffixes[-1] if suffixes else ""
        if self.container not in CONTAINERS:
            expected = ", ".join(CONTAINERS)
            raise FormatError(f"{name}: unknown file type; expected {expected} (optionally .gz)")
        if self.gzipped and self.container == ".parquet":
            raise FormatError(f"{name}: Parquet files are compressed inside; do not gzip them")
        try:
            self.size = path.stat().st_size
        except OSError as e:
            raise FormatError(f"{name}: cannot open the file ({e.strerror})") from e
        self.columns: list[str] | None = None  # known up front for CSV and Parquet
        self.line = 0  # last line (row) read
        self._raw: io.BufferedReader | None = None
        self._rows = (0, 0)  # Parquet: rows read, rows in all
        self._finished = False

    @property
    def position(self) -> int:
        """Bytes of the file on disk (compressed, if gzipped) consumed so far."""
        if self._finished:
            return self.size
        if self.container == ".parquet":
            done, total = self._rows
            return self.size * done // total if total else 0
        raw = self._raw
        return raw.tell() if raw is not None and not raw.closed else 0

    def records(self) -> Generator[Item]:
        if self.container == ".parquet":
            yield from self._parquet()
            self._finished = True
            return
        with open(self.path, "rb") as raw:
            self._raw = raw
            stream: Stream = gzip.GzipFile(fileobj=raw, mode="rb") if self.gzipped else raw
            try:
                if self.container == ".csv":
                    yield from self._csv(stream)
                elif self.container == ".json" and self._starts_with_bracket(stream):
                    yield from self._json_values(stream, array=True)
                elif self.container == ".json" and self._starts_pretty_printed(stream):
                    yield from self._json_values(stream, array=False)
                else:
                    yield from self._jsonl(stream)
            except (OSError, EOFError, zlib.error) as e:
                where = f"after line {self.line}" if self.line else "at the start"
                raise FormatError(f"{self.name}: cannot read the file {where}: {e}") from e
        self._finished = True

    def _starts_with_bracket(self, stream: Stream) -> bool:
        head = stream.peek(4096)
        return head.removeprefix(_BOM).lstrip()[:1] == b"["

    def _starts_pretty_printed(self, stream: Stream) -> bool:
        """A first line that is a lone "{": pretty-printed objects back to back (PRM800K's
        layout), which no JSON Lines reader can take."""
        head = stream.peek(4096).removeprefix(_BOM).lstrip()
        return head.split(b"\n", 1)[0].strip() == b"{"

    def _jsonl(self, stream: Stream) -> Iterator[Item]:
        decoder = json.JSONDecoder(parse_constant=_reject_constant)
        scan = decoder.scan_once  # type: ignore[attr-defined]  # what decode() calls, undocumented
        decode, name = decoder.decode, self.name
        for line, data in enumerate(stream, 1):
            self.line = line
            if line == 1 and data.startswith(_BOM):
                data = data[3:]
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as e:
                reason = f"invalid UTF-8 at byte {e.start + 1} of the line"
                yield RecordError(name, line, "", reason)
                continue
            try:  # the scanner alone is a third faster than decode(); it is this loop's hot spot
                record, end = scan(text, 0)
                clean = end == len(text) or text[end:].isspace()
            except (StopIteration, ValueError, RecursionError):
                clean = False
            if not clean:
                if not text or text.isspace():
                    continue
                try:  # again, the slow way, for decode()'s error message
                    record = decode(text)
                except json.JSONDecodeError as e:
                    if line == 1 and text.strip() == "{":
                        raise FormatError(
                            f"{name}: line 1: one JSON object over several lines; expected JSON "
                            "Lines (an object a line) or a JSON array of objects"
                        ) from None
                    yield RecordError(name, line, "", f"invalid JSON: {e.msg} (column {e.colno})")
                    continue
                except (ValueError, RecursionError) as e:
                    yield RecordError(name, line, "", f"invalid JSON: {e}")
                    continue
            if type(record) is not dict:
                yield RecordError(name, line, "", f"expected a JSON object, got {kind_of(record)}")
                continue
            yield line, record

    def _json_values(self, stream: Stream, *, array: bool) -> Iterator[Item]:
        """Walk a JSON array (or, with array=False, JSON objects back to back, separated by
        blanks only) element by element with raw_decode, counting newlines as we go."""
        decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        raw_decode = json.JSONDecoder(parse_constant=_reject_constant).raw_decode
        name = self.name
        buf, pos, line, eof = "", 0, 1, False

        def fill() -> None:
            nonlocal buf, pos, eof
            data = stream.read(max(_CHUNK, 2 * (len(buf) - pos)))
            eof = not data
            buf = buf[pos:] + decoder.decode(data, final=eof)
            pos = 0

        def skip_ws() -> str:  # the next non-blank character, "" at the end of the file
            nonlocal pos, line
            while True:
                end = _WS.match(buf, pos).end()  # type: ignore[union-attr]
                line += buf.count("\n", pos, end)
                pos = end
                if pos < len(buf) or eof:
                    return buf[pos : pos + 1]
                fill()

        fill()
        if buf.startswith("\ufeff"):
            buf = buf[1:]
        if array:
            skip_ws()
            pos += 1  # the "[" that _starts_with_bracket saw
        expect_element, empty = True, True
        broken = "broken JSON array" if array else "broken JSON"
        while True:
            char = skip_ws()
            if not array and not char:
                return
            if array and char == "]" and (empty or not expect_element):
                pos += 1
                if skip_ws():
                    yield RecordError(name, line, "", "unexpected text after the end of the array")
                return
            if not expect_element:
                if char != ",":
                    what = f"found {char!r}" if char else "the file ends"
                    yield RecordError(
                        name, line, "", f"broken JSON array: expected ',' or ']', {what}"
                    )
                    return
                pos += 1
                expect_element = True
                continue
            try:
                record, end = raw_decode(buf, pos)
                if end == len(buf) and not eof:  # a scalar cut off by the end of the chunk
                    raise json.JSONDecodeError("cut off", buf, end)
            except json.JSONDecodeError as e:
                if not eof and (e.pos >= len(buf) - 64 or e.msg.startswith("Unterminated")):
                    fill()  # the element runs past what we have read: read more and retry
                    continue
                at = line + buf.count("\n", pos, e.pos)
                yield RecordError(name, at, "", f"{broken}: {e.msg}; stopped reading here")
                return
            except (ValueError, RecursionError) as e:
                yield RecordError(name, line, "", f"{broken}: {e}; stopped reading here")
                return
            self.line = line
            expect_element, empty = not array, False
            undecodable = _UNDECODABLE.search(buf, pos, end)
            line += buf.count("\n", pos, end)
            pos = end
            if undecodable:
                yield RecordError(name, self.line, "", "invalid UTF-8")
            elif type(record) is not dict:
                yield RecordError(
                    name, self.line, "", f"expected a JSON object, got {kind_of(record)}"
                )
            else:
                yield self.line, record

    def _csv(self, stream: Stream) -> Iterator[Item]:
        # Responses can be long; the default 128 KiB field limit would reject them.
        csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise FormatError(f"{self.name}: line 1: cannot read the CSV header: {e}") from e
        if any(_UNDECODABLE.search(h) for h in header):
            raise FormatError(f"{self.name}: line 1: the CSV header is not valid UTF-8")
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise FormatError(f"{self.name}: line 1: duplicate column(s) {', '.join(dupes)}")
        self.columns, width, name = header, len(header), self.name
        read_to = reader.line_num
        while True:
            line = read_to + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                read_to = reader.line_num
                yield RecordError(name, line, "", f"invalid CSV: {e}")
                continue
            read_to = self.line = reader.line_num
            if not row:
                continue
            if len(row) != width:
                yield RecordError(name, line, "", f"expected {width} columns, got {len(row)}")
                continue
            bad = next(
                (
                    h
                    for h, v in zip(header, row, strict=True)
                    if not v.isascii() and _UNDECODABLE.search(v)
                ),
                None,
            )
            if bad is not None:
                yield RecordError(name, line, bad, "invalid UTF-8")
                continue
            yield line, dict(zip(header, row, strict=True))

    def _parquet(self) -> Iterator[Item]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as e:
            raise FormatError(f"{self.name}: not a readable Parquet file: {e}") from e
        self.columns = list(parquet.schema_arrow.names)
        total, row = parquet.metadata.num_rows, 0
        try:
            for batch in parquet.iter_batches(batch_size=2048):
                for record in batch.to_pylist():
                    row += 1
                    self.line, self._rows = row, (row, total)
                    yield row, record
        except (pa.ArrowException, OSError) as e:
            raise FormatError(f"{self.name}: cannot read the file after row {row}: {e}") from e


def peek(records: Generator[Item], name: str) -> tuple[dict[str, Any], Generator[Item]]:
    """The first readable record, and all records (that one included) in order.

    Raises FormatError, closing `records`, when the file holds no readable record.
    """
    pending: list[Item] = []
    try:
        for item in records:
            pending.append(item)
            if not isinstance(item, RecordError):
                return item[1], _resume(pending, records)
            if len(pending) >= _NO_PROGRESS_LIMIT:
                break
    except BaseException:
        records.close()
        raise
    records.close()
    if not pending:
        raise FormatError(f"{name}: the file holds no records")
    first = pending[0]
    assert isinstance(first, RecordError)
    count = f"{len(pending)}{'+' if len(pending) >= _NO_PROGRESS_LIMIT else ''}"
    raise FormatError(
        f"{name}: no readable record ({count} unreadable); line {first.line}: {first.reason}"
    )


def _resume(pending: list[Item], records: Generator[Item]) -> Generator[Item]:
    try:
        yield from pending
        pending.clear()
        yield from records
    finally:
        records.close()
