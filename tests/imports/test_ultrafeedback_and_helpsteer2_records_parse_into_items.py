"""UltraFeedback records and HelpSteer2 rows are detected and parsed into items (pure Python):
per-aspect ratings as one rater's, rows of one prompt grouped wherever they are, and a bad
field named with its line."""

from __future__ import annotations

import json
from pathlib import Path

from webapp.imports.formats import ParsedItem, RecordError, open_records

ULTRA = {
    "instruction": "Name a prime.",
    "models": ["m1", "m2"],
    "completions": [
        {"model": "m1", "response": "7", "annotations": {
            "helpfulness": {"Rating": "5", "Rationale": "right"},
            "honesty": {"Rating": "4", "Rationale": "sure"},
        }},
        {"model": "m2", "response": "9", "annotations": {
            "helpfulness": {"Rating": "1", "Rationale": "wrong"},
            "honesty": {"Rating": "2", "Rationale": "unsure"},
        }},
    ],
}  # fmt: skip


def write(path: Path, *records: object) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_an_ultrafeedback_record_is_one_item_with_one_raters_aspect_ratings(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(ULTRA))
    bad["completions"][1]["annotations"]["honesty"]["Rating"] = "N/A"
    stream = open_records(write(tmp_path / "uf.jsonl", ULTRA, bad))
    assert stream.format == "ultrafeedback"
    item, error = list(stream)
    assert isinstance(item, ParsedItem)
    assert item.prompt == "Name a prime."
    assert [(r.text, r.model) for r in item.responses] == [("7", "m1"), ("9", "m2")]
    assert item.scores == {
        "ultrafeedback": {
            0: {"helpfulness": 5.0, "honesty": 4.0},
            1: {"helpfulness": 1.0, "honesty": 2.0},
        }
    }
    assert isinstance(error, RecordError)
    assert (error.line, error.field) == (2, "completions[1].annotations.honesty.Rating")


def test_helpsteer2_rows_of_one_prompt_become_one_item_wherever_they_are(tmp_path: Path) -> None:
    def row(prompt: str, response: str, help_: int) -> dict[str, object]:
        return {"prompt": prompt, "response": response, "helpfulness": help_, "correctness": 3,
                "coherence": 4, "complexity": 1, "verbosity": 2}  # fmt: skip

    path = write(
        tmp_path / "hs2.jsonl",
        row("p1", "a", 4),
        row("p2", "x", 1),
        row("p1", "b", 2),
        row("p3", "alone", 0),
    )
    stream = open_records(path)
    assert stream.format == "helpsteer2"
    out = list(stream)
    items = [o for o in out if isinstance(o, ParsedItem)]
    errors = [o for o in out if isinstance(o, RecordError)]
    assert [(i.line, i.prompt, [r.text for r in i.responses]) for i in items] == [
        (1, "p1", ["a", "b"])
    ]
    assert items[0].scores["helpsteer2"][1]["helpfulness"] == 2.0
    # p2 and p3 have one response each: an item needs two
    assert sorted((e.line, e.field) for e in errors) == [(2, "response"), (4, "response")]
