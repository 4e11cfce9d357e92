"""In every newer import format (items, step-by-step solutions, judge verdicts, benchmarks), a
hostile record (broken JSON, not an object, bytes that are not UTF-8, a NUL, a lone surrogate,
a number or a list where text belongs) is rejected with its file, line and field; nothing of it
is stored, the good records beside it are, and nothing stored before changes. A cut-off last
line is named the same way, and a strict import of a hostile file stores nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.security.formats import Format, Record, hostile, stored_for, write
from tests.security.newer_formats import FORMATS, IDS

pytestmark = pytest.mark.django_db

OWN = "the format's field"  # the error names the field the value was put in


def _bad_bytes(fmt: Format, record: Record) -> bytes:
    line = json.dumps(hostile(record, fmt, "BAD-BYTES")).encode()
    return line.replace(b"BAD-BYTES", b"bad \xff\xfe bytes")


# (id, the hostile line made from a good record, the field named, a word of the reason)
CASES: list[tuple[str, Callable[[Format, Record], Any], str, str]] = [
    ("broken-json", lambda f, r: json.dumps(r)[:-9] + ', "x": }', "", "invalid JSON"),
    ("not-an-object", lambda f, r: "[1, 2, 3]", "", "expected a JSON object"),
    ("invalid-utf8", _bad_bytes, "", "invalid UTF-8"),
    ("nul", lambda f, r: hostile(r, f, "nul \x00 inside"), OWN, "NUL"),
    ("lone-surrogate", lambda f, r: hostile(r, f, "half \ud800 a pair"), OWN, "surrogate"),
    ("a-number", lambda f, r: hostile(r, f, 7), OWN, "a number"),
    ("a-list", lambda f, r: hostile(r, f, [1, 2]), OWN, ""),
]


def _partner(fmt: Format, line: int, path: Path) -> list[tuple[str, int, str]]:
    """A format of one response a row loses the item whose other row was rejected: an item
    needs two responses, so that row is named too (at its own line)."""
    return [(path.name, line, "response")] if fmt.rows == 2 else []


def _new(fmt: Format, units: int) -> dict[str, int]:
    return {name: units * n for name, n in fmt.stored.items()}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_a_hostile_record_is_named_and_the_records_around_it_imported(
    fmt: Format,
    case: tuple[str, Callable[[Format, Record], Any], str, str],
    tmp_path: Path,
    admin_user: Any,
) -> None:
    _, make, field, word = case
    stored = stored_for(fmt, tmp_path, admin_user)
    lines: list[Any] = fmt.lines(range(1, 4), "good")
    at = fmt.rows  # the first record of the second unit
    lines[at] = make(fmt, lines[at])
    path = write(tmp_path / f"hostile-{fmt.name}{fmt.suffix}", lines)
    outcome = fmt.run(stored.project, path)
    named = fmt.field if field == OWN else field
    assert sorted(e[:3] for e in outcome.errors) == sorted(
        [(path.name, at + 1, named), *_partner(fmt, at + 2, path)]
    ), outcome.errors
    reason = next(e[3] for e in outcome.errors if e[1] == at + 1)
    assert word.lower() in reason.lower(), reason
    stored.assert_unchanged(**_new(fmt, 2))


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_a_cut_off_last_line_is_named_and_the_records_before_it_imported(
    fmt: Format, tmp_path: Path, admin_user: Any
) -> None:
    stored = stored_for(fmt, tmp_path, admin_user)
    lines: list[Any] = fmt.lines(range(1, 4), "good")
    lines[-1] = json.dumps(lines[-1])[:25]  # the download stopped here
    path = tmp_path / f"cut-{fmt.name}{fmt.suffix}"
    path.write_bytes(write(path, lines).read_bytes().rstrip(b"\n"))
    outcome = fmt.run(stored.project, path)
    last = len(lines)
    assert sorted(e[:3] for e in outcome.errors) == sorted(
        [(path.name, last, ""), *_partner(fmt, last - 1, path)]
    ), outcome.errors
    assert next(e[3] for e in outcome.errors if e[1] == last).startswith("invalid JSON")
    stored.assert_unchanged(**_new(fmt, 2))


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.kind == "import"], ids=lambda f: f.name)
def test_a_strict_import_of_a_hostile_file_stores_nothing(
    fmt: Format, tmp_path: Path, admin_user: Any
) -> None:
    stored = stored_for(fmt, tmp_path, admin_user)
    lines: list[Any] = fmt.lines(range(1, 4), "good")
    lines[-1] = hostile(lines[-1], fmt, "nul \x00 inside")
    outcome = fmt.run(stored.project, write(tmp_path / f"strict{fmt.suffix}", lines), strict=True)
    assert outcome.strict_rejected
    assert [e[1:3] for e in outcome.errors][:1] == [(len(lines), fmt.field)]
    stored.assert_unchanged()
