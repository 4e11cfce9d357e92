"""A record whose fields have the wrong type, are missing or do not fit is rejected on its line,
naming the field; the good records beside it are imported and nothing stored before changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.security.hostile import Stored, run_import
from webapp.imports.models import ImportBatch
from webapp.pairs.models import Pair

pytestmark = pytest.mark.django_db

GOOD = {"prompt": "p", "chosen": "c", "rejected": "r"}

# (record, the field the report must name, a word its reason must hold)
BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"prompt": "p", "chosen": 7, "rejected": "r"}, "chosen", "string"),
    ({"prompt": "p", "chosen": "c", "rejected": None}, "rejected", "null"),
    ({"prompt": "p", "chosen": {"text": "c"}, "rejected": "r"}, "chosen", "object"),
    ({"prompt": "p", "chosen": [1, 2], "rejected": "r"}, "chosen", "object"),
    ({"prompt": True, "chosen": "c", "rejected": "r"}, "prompt", "boolean"),
    ({"prompt": ["not", "messages"], "chosen": "c", "rejected": "r"}, "prompt", "object"),
    ({"prompt": "p", "chosen": "c"}, "rejected", "missing"),
    ({"chosen": "c", "rejected": "r", "prompt": ""}, "prompt", "empty"),
    ({**GOOD, "split": 3}, "split", "string"),
    ({**GOOD, "split": "s" * 200}, "split", "long"),
    ({**GOOD, "id": "i" * 5000}, "id", "long"),
    ({**GOOD, "id": [1]}, "id", "string"),
    ({**GOOD, "id": 1.5}, "id", "string"),
    ({**GOOD, "chosen": "nul \u0000 inside"}, "chosen", "NUL"),
    # a field the format does not know is kept as metadata: its name is checked as a text is,
    # and the report writes it with escapes
    ({**GOOD, "note\u0000": 1}, "note\\x00", "NUL"),
    ({**GOOD, "note\ud800": 1}, "note\\ud800", "surrogate"),
]


@pytest.mark.parametrize(("record", "field", "word"), BAD, ids=[f"{b[1]}-{b[2]}" for b in BAD])
def test_a_bad_field_is_rejected_by_name_and_the_rest_imported(
    stored: Stored, tmp_path: Path, record: dict[str, Any], field: str, word: str
) -> None:
    path = tmp_path / "typed.jsonl"
    rows = [{**GOOD, "prompt": "first"}, record, {**GOOD, "prompt": "last"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    batch = run_import(stored.project, path, fmt="trl")
    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert [(e["file"], e["line"], e["field"]) for e in batch.errors] == [("typed.jsonl", 2, field)]
    assert word.lower() in batch.errors[0]["reason"].lower(), batch.errors[0]["reason"]
    assert batch.pairs_created == 2
    stored.assert_unchanged(new_pairs=2)


def test_a_record_of_the_wrong_kind_is_reported_and_the_first_decides_the_format(
    stored: Stored, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [json.dumps(GOOD), "[1, 2, 3]", '"just a string"', "42", json.dumps({"other": 1})]
    path.write_text("\n".join(lines) + "\n")
    batch = run_import(stored.project, path)
    assert [(e["line"], e["field"]) for e in batch.errors] == [
        (2, ""),
        (3, ""),
        (4, ""),
        (5, "chosen"),
    ]
    assert "expected a JSON object, got a list" in batch.errors[0]["reason"]
    assert Pair.objects.filter(project=stored.project, import_batch=batch).count() == 1
    stored.assert_unchanged(new_pairs=1)


def test_over_long_model_names_are_rejected_in_mappings_and_pandalm(
    stored: Stored, tmp_path: Path
) -> None:
    path = tmp_path / "models.jsonl"
    rows = [
        {"q": "p1", "a": "x", "b": "y", "ma": "m" * 201},
        {"q": "p2", "a": "x", "b": "y", "ma": "fine"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    mapping = {"prompt": "q", "chosen": "a", "rejected": "b", "model_a": "ma"}
    batch = run_import(stored.project, path, fmt="mapping", mapping=mapping)
    assert [(e["line"], e["field"]) for e in batch.errors] == [(1, "ma")]
    assert batch.pairs_created == 1
    panda = tmp_path / "panda.json"
    record = {"idx": 1, "cmp_key": "a" * 300 + "_b", "instruction": "i", "input": ""}
    panda.write_text(json.dumps([{**record, "response1": "r1", "response2": "r2"}]))
    batch = run_import(stored.project, panda, fmt="pandalm")
    assert [(e["line"], e["field"]) for e in batch.errors] == [(1, "cmp_key")]
    stored.assert_unchanged(new_pairs=1)
