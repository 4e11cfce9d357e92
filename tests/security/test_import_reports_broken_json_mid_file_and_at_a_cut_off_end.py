"""Broken JSON in the middle of a file, or a last line cut off mid-record (a truncated
download), is reported with its file and line; the records around it are imported and nothing
stored before changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.security.hostile import Stored, run_import
from webapp.imports.models import ImportBatch

pytestmark = pytest.mark.django_db


def _line(i: int) -> str:
    return json.dumps({"prompt": f"question {i}", "chosen": f"good {i}", "rejected": f"bad {i}"})


def test_a_broken_line_mid_file_and_a_cut_off_last_line_are_reported(
    stored: Stored, tmp_path: Path
) -> None:
    lines = [_line(i) for i in range(6)]
    lines[2] = lines[2][:-9] + ', "x": }'  # broken mid-file
    cut = _line(6)[:25]  # the download stopped here: no closing brace, no newline
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n" + cut)
    batch = run_import(stored.project, path)
    assert batch.status == ImportBatch.Status.DONE
    assert batch.records_seen == 7 and batch.records_rejected == 2
    assert [(e["file"], e["line"], e["field"]) for e in batch.errors] == [
        ("broken.jsonl", 3, ""),
        ("broken.jsonl", 7, ""),
    ]
    assert all(e["reason"].startswith("invalid JSON: ") for e in batch.errors)
    assert "column" in batch.errors[1]["reason"]
    stored.assert_unchanged(new_pairs=5)


def test_a_json_array_cut_off_keeps_the_records_before_the_cut(
    stored: Stored, tmp_path: Path
) -> None:
    records = [json.loads(_line(i)) for i in range(5)]
    text = json.dumps(records, indent=1)
    path = tmp_path / "cut.json"
    path.write_text(text[: text.index("good 4") + 3])
    batch = run_import(stored.project, path)
    assert batch.status == ImportBatch.Status.DONE
    assert batch.pairs_created == 4 and batch.records_rejected == 1
    (error,) = batch.errors
    assert error["file"] == "cut.json" and error["line"] > 1
    assert "broken JSON array" in error["reason"]
    stored.assert_unchanged(new_pairs=4)


def test_a_strict_import_of_a_broken_file_stores_nothing(stored: Stored, tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(_line(1) + "\n" + _line(2)[:-1] + "\n")
    batch = run_import(stored.project, path, strict=True)
    assert batch.status == ImportBatch.Status.REJECTED
    assert batch.errors[0]["line"] == 2
    stored.assert_unchanged()
