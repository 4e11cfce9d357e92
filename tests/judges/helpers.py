"""A small project with three people's votes, and verdict files, for the judges tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management import call_command

# idx -> (annotator1, annotator2, annotator3) votes: "1" A, "2" B, "0" tie; None: no votes
VOTES: dict[str, tuple[str, str, str] | None] = {
    "0": ("1", "1", "1"),
    "1": ("1", "1", "2"),
    "2": ("2", "2", "2"),
    "3": ("2", "1", "2"),
    "4": ("1", "1", "0"),
    "5": ("2", "2", "1"),
    "6": None,
}


def import_voted_pairs(project: Any, tmp_path: Path) -> None:
    """Seven pairs (ids "0" to "6"): six with three votes each, the last with none. Response A
    of each is longer than response B."""
    path = tmp_path / "voted.jsonl"
    with open(path, "w") as fh:
        for idx, votes in VOTES.items():
            record: dict[str, Any] = {
                "idx": idx,
                "instruction": f"Question {idx}?",
                "response1": f"A long and careful answer to question {idx}.",
                "response2": f"Short {idx}.",
                "category": "even" if int(idx) % 2 == 0 else "odd",
            }
            for k, vote in enumerate(votes or (), start=1):
                record[f"annotator{k}"] = vote
            fh.write(json.dumps(record) + "\n")
    call_command("import_pairs", str(path), project=project.name, format="pandalm")


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path
