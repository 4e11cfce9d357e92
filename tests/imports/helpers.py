"""Helpers of the import format tests: small files written and read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from webapp.imports.formats import ParsedPair, RecordError, open_records

DATA = Path(__file__).resolve().parent / "data"
HH = {
    "chosen": "\n\nHuman: Hi there\n\nAssistant: Hello!",
    "rejected": "\n\nHuman: Hi there\n\nAssistant: Go away.",
}


def read(path: Path, **kwargs: Any) -> list[ParsedPair | RecordError]:
    return list(open_records(path, **kwargs))


def write_jsonl(path: Path, *records: Any) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def only(items: list[ParsedPair | RecordError]) -> ParsedPair | RecordError:
    assert len(items) == 1, items
    return items[0]


def error(items: list[ParsedPair | RecordError]) -> tuple[int, str, str]:
    item = only(items)
    assert isinstance(item, RecordError), item
    return item.line, item.field, item.reason
