"""Bytes that are not UTF-8 reject only their record, which the report names by line (and by
byte in JSON Lines, by column in CSV); nothing stored before changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.security.hostile import Stored, run_import
from webapp.imports.models import ImportBatch
from webapp.pairs.models import Pair

pytestmark = pytest.mark.django_db


def _record(i: int) -> bytes:
    return json.dumps({"prompt": f"p{i}", "chosen": f"c{i}", "rejected": f"r{i}"}).encode()


def test_jsonl_names_the_line_and_the_byte(stored: Stored, tmp_path: Path) -> None:
    bad = _record(2)
    at = bad.index(b"c2") + 1
    bad = bad[:at] + b"\xff\xfe" + bad[at:]  # two bytes that start no UTF-8 sequence
    cut = "é".encode()[:1]  # half of a two-byte character
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b"\n".join([_record(1), bad, _record(3), cut + _record(4), _record(5)]))
    batch = run_import(stored.project, path)
    assert batch.status == ImportBatch.Status.DONE
    assert [(e["file"], e["line"], e["reason"]) for e in batch.errors] == [
        ("latin.jsonl", 2, f"invalid UTF-8 at byte {at + 1} of the line"),
        ("latin.jsonl", 4, "invalid UTF-8 at byte 1 of the line"),
    ]
    assert batch.pairs_created == 3
    stored.assert_unchanged(new_pairs=3)


def test_a_json_array_names_the_line_of_the_element(stored: Stored, tmp_path: Path) -> None:
    path = tmp_path / "latin.json"
    path.write_bytes(b"[\n" + _record(1) + b",\n" + _record(2).replace(b"c2", b"c\xe92") + b"\n]")
    batch = run_import(stored.project, path)
    assert [(e["line"], e["reason"]) for e in batch.errors] == [(3, "invalid UTF-8")]
    assert batch.pairs_created == 1
    stored.assert_unchanged(new_pairs=1)


def test_csv_names_the_line_and_the_column(stored: Stored, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"q,good,bad\np1,c1,r1\np2,c\xe92,r2\np3,c3,r3\n")
    mapping = {"prompt": "q", "chosen": "good", "rejected": "bad"}
    batch = run_import(stored.project, path, fmt="mapping", mapping=mapping)
    assert [(e["line"], e["field"], e["reason"]) for e in batch.errors] == [
        (3, "good", "invalid UTF-8")
    ]
    assert Pair.objects.filter(import_batch=batch).count() == 2
    stored.assert_unchanged(new_pairs=2)
