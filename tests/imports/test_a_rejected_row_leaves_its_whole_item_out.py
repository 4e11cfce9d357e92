"""In the formats of one response a row, a rejected row takes its item with it: the item's other
rows are reported, naming the rejected line, and no item of fewer responses is stored. Where the
rejected row's group cannot be told (its prompt is the bad field), the rest still group."""

from __future__ import annotations

import json
from pathlib import Path

from webapp.imports.formats import ParsedItem, RecordError, open_records


def _row(prompt: object, response: str, helpfulness: object = 3) -> dict[str, object]:
    return {"prompt": prompt, "response": response, "helpfulness": helpfulness, "correctness": 3,
            "coherence": 4, "complexity": 1, "verbosity": 2}  # fmt: skip


def _read(path: Path, mapping: dict[str, str] | None = None) -> tuple[list, list]:
    out = list(open_records(path, mapping=mapping))
    items = [(o.line, [r.text for r in o.responses]) for o in out if isinstance(o, ParsedItem)]
    errors = sorted((o.line, o.field, o.reason) for o in out if isinstance(o, RecordError))
    return items, errors


def _write(path: Path, *rows: object) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_bad_rating_leaves_out_every_response_of_its_prompt(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "hs2.jsonl",
        _row("p1", "a"),
        _row("p2", "x"),
        _row("p1", "b", helpfulness="lots"),
        _row("p1", "c"),
        _row("p2", "y"),
    )
    items, errors = _read(path)
    assert items == [(2, ["x", "y"])]
    assert [(line, field) for line, field, _ in errors] == [
        (1, "response"),
        (3, "helpfulness"),
        (4, "response"),
    ]
    assert "line 3, a response of the same prompt, was rejected" in errors[0][2]


def test_a_row_whose_prompt_is_bad_cannot_take_an_item_with_it(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "hs2.jsonl", _row("p1", "a"), _row(None, "b"), _row("p1", "c"), _row("p1", "d")
    )
    items, errors = _read(path)
    assert items == [(1, ["a", "c", "d"])]
    assert [(line, field) for line, field, _ in errors] == [(2, "prompt")]


def test_the_mapping_format_groups_by_its_group_column(tmp_path: Path) -> None:
    rows = [
        {"g": "1", "q": "same", "r": "a", "s": 1},
        {"g": "2", "q": "same", "r": "b", "s": "x"},
        {"g": "1", "q": "same", "r": "c", "s": 2},
        {"g": "2", "q": "same", "r": "d", "s": 3},
    ]
    path = _write(tmp_path / "rows.jsonl", *rows)
    items, errors = _read(path, {"group": "g", "prompt": "q", "response": "r", "score": "s"})
    assert items == [(1, ["a", "c"])]
    assert [(line, field) for line, field, _ in errors] == [(2, "s"), (4, "response")]
