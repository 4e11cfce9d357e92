"""Every text comes out of an export exactly as it went in, whatever characters it holds, and
a pair labelled B is exported with response B as chosen."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.exports.helpers import make_pairs, transcript
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write


def _export(project: Any, fmt: str, style: str = "standard") -> Any:
    snapshot = export_create(
        project=project, file_format=fmt, spec=ExportSpec(style=style), enqueue=False
    )
    return export_write(snapshot=snapshot)


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    # split on "\n" only: texts may hold U+2028, which str.splitlines() would cut at
    return [json.loads(line) for line in raw.decode().split("\n") if line]


def _all_rows(snapshot: Any) -> list[dict[str, Any]]:
    rows = []
    for f in snapshot.files:
        if f["name"] != "README.md":
            rows += _rows(snapshot.path / f["name"])
    return rows


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "parquet"])
def test_it_writes_standard_rows_exactly_as_stored(project: Any, fmt: str) -> None:
    made = make_pairs(project, 12)
    rows = _all_rows(_export(project, fmt))
    preferred = {pid: e for pid, e in made.expected.items() if e["label"] in ("a", "b")}
    assert sorted(r["pair_id"] for r in rows) == sorted(preferred)
    for row in rows:
        e = preferred[row["pair_id"]]
        prompt = e["prompt"] if isinstance(e["prompt"], str) else transcript(e["prompt"])
        chosen, rejected = (e["a"], e["b"]) if e["label"] == "a" else (e["b"], e["a"])
        assert (row["prompt"], row["chosen"], row["rejected"]) == (prompt, chosen, rejected)
        assert row["split"] == e["split"]
        assert row["label_source"] == "imported"
        assert row["mu"] is None and row["flags"] is None and row["human_agreement"] is None


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_it_writes_conversations_as_messages(project: Any, fmt: str) -> None:
    made = make_pairs(project, 12)
    rows = _all_rows(_export(project, fmt, style="conversational"))
    assert rows
    for row in rows:
        e = made.expected[row["pair_id"]]
        prompt = e["prompt"]
        if isinstance(prompt, str):
            prompt = [{"role": "user", "content": prompt}]
        chosen, rejected = (e["a"], e["b"]) if e["label"] == "a" else (e["b"], e["a"])
        assert row["prompt"] == prompt
        assert row["chosen"] == [{"role": "assistant", "content": chosen}]
        assert row["rejected"] == [{"role": "assistant", "content": rejected}]


def test_the_same_data_gives_the_same_bytes(project: Any) -> None:
    make_pairs(project, 8)
    first, second = _export(project, "jsonl.gz"), _export(project, "jsonl.gz")
    data = [f for f in first.files if f["name"] != "README.md"]
    assert [f["sha256"] for f in data] == [
        f["sha256"] for f in second.files if f["name"] != "README.md"
    ]
    assert (first.version, second.version) == (1, 2)
