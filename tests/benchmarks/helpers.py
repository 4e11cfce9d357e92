"""Small benchmark files in each format, for the benchmarks tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write(path: Path, records: list[dict[str, Any]], *, array: bool = False) -> Path:
    if array:
        path.write_text(json.dumps(records))
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def rewardbench(tmp_path: Path) -> Path:
    """Eight pairs, four in each of two subsets, and one record without its rejected answer."""
    records: list[dict[str, Any]] = [
        {
            "id": k,
            "prompt": f"Q{k}: <b>what</b>?",
            "chosen": f"good {k}",
            "rejected": f"bad {k}",
            "subset": "x" if k < 4 else "y",
        }
        for k in range(8)
    ]
    records.insert(3, {"id": 99, "prompt": "Q", "chosen": "only one", "subset": "x"})
    return write(tmp_path / "rewardbench.jsonl", records)


def rmbench(tmp_path: Path) -> Path:
    """Two items, each with three styles of its chosen and its rejected answer."""
    records = [
        {
            "id": item,
            "prompt": f"Item {item}?",
            "subset": "alpacaeval",
            "chosen": [f"right {item} {style}" for style in ("short", "long", "**md**")],
            "rejected": [f"wrong {item} {style}" for style in ("short", "long", "**md**")],
        }
        for item in (1, 2)
    ]
    return write(tmp_path / "rm-bench-chat.json", records, array=True)


def judgebench(tmp_path: Path) -> Path:
    rows = (
        ("p1", "2+2?", "4", "5", "A>B", "math"),
        ("p2", "Capital of France?", "Rome", "Paris", "B>A", "knowledge"),
        ("p3", "?", "a", "b", "A=B", "math"),
    )
    keys = ("pair_id", "question", "response_A", "response_B", "label", "source")
    return write(tmp_path / "judgebench.jsonl", [dict(zip(keys, row, strict=True)) for row in rows])
