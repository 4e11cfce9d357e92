"""Helpers for the hostile-input battery: a project with data already stored, and a
fingerprint of that data to show an import of a hostile file left it exactly as it was.
formats.py lays out the same hostile records in every newer import format."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection

from webapp.imports.models import ImportBatch
from webapp.imports.services import import_batch_create, import_run
from webapp.judges.models import JudgeVerdict
from webapp.labelling.models import ItemAnswer, Vote
from webapp.pairs.models import Item, ItemResponse, Pair


@dataclass(frozen=True)
class Fingerprint:
    counts: dict[str, int]  # rows of each table in TABLES
    checksum: str

    @property
    def pairs(self) -> int:
        return self.counts["pairs"]

    @property
    def votes(self) -> int:
        return self.counts["votes"]


# Every column of every pair and vote, with their prompt's and responses' texts, in id order.
_PAIRS_SQL = """
    SELECT string_agg(concat_ws('|', p.id, p.project_id, p.imported_label,
        encode(p.dedup_key, 'hex'), p.split, p.external_id, p.metadata::text,
        p.source_file, p.source_line, pr.text, pr.conversation::text, ra.text,
        ra.source_model, rb.text, rb.source_model), E'\\n' ORDER BY p.id)
    FROM pairs_pair p
    JOIN pairs_prompt pr ON pr.id = p.prompt_id
    JOIN pairs_response ra ON ra.id = p.response_a_id
    JOIN pairs_response rb ON rb.id = p.response_b_id
    WHERE p.id <= %(upto)s
"""
_VOTES_SQL = """
    SELECT string_agg(concat_ws('|', v.id, v.pair_id, v.annotator_id, v.choice, v.strength,
        v.rationale, v.shown_order), E'\\n' ORDER BY v.id)
    FROM labelling_vote v WHERE v.id <= %(upto)s
"""


def _whole_rows_sql(model: Any) -> str:
    """Every column of a table's rows, in id order (items, their responses and answers keep
    their texts in prompts and responses, which are written once and never change)."""
    table = model._meta.db_table
    return f"SELECT string_agg(t::text, E'\\n' ORDER BY t.id) FROM {table} t WHERE t.id <= %(upto)s"


# name -> (the table, the SQL of its rows' text up to an id)
TABLES: dict[str, tuple[Any, str]] = {
    "pairs": (Pair, _PAIRS_SQL),
    "votes": (Vote, _VOTES_SQL),
    "items": (Item, _whole_rows_sql(Item)),
    "item_responses": (ItemResponse, _whole_rows_sql(ItemResponse)),
    "answers": (ItemAnswer, _whole_rows_sql(ItemAnswer)),
    "verdicts": (JudgeVerdict, _whole_rows_sql(JudgeVerdict)),
}


def fingerprint(upto: dict[str, int] | None = None) -> Fingerprint:
    """Counts of the rows of every table in TABLES, and a checksum of those with ids up to
    ``upto`` (table name -> id): the rows that were there before, whatever came in since."""
    counts, texts = {}, []
    with connection.cursor() as cursor:
        for name, (model, sql) in TABLES.items():
            cursor.execute(f"SELECT count(*) FROM {model._meta.db_table}")
            counts[name] = cursor.fetchone()[0]
            cursor.execute(sql, {"upto": (upto or {}).get(name, 2**62)})
            texts.append(cursor.fetchone()[0] or "")
    checksum = hashlib.md5("\x1e".join(texts).encode()).hexdigest()
    return Fingerprint(counts, checksum)


def high_water() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT coalesce(max(id), 0) FROM {model._meta.db_table}"
                for model, _ in TABLES.values()
            )
        )
        return dict(zip(TABLES, (row[0] for row in cursor.fetchall()), strict=True))


def pandalm_record(i: int, prompt: str = "Rewrite this") -> dict[str, Any]:
    return {
        "idx": i,
        "cmp_key": "model-x_model-y",
        "instruction": f"{prompt} {i}",
        "input": "",
        "response1": f"first answer {i}",
        "response2": f"second answer {i}",
        "annotator1": 1,
        "annotator2": 2,
        "annotator3": 1,
    }


def run_import(project: Any, path: Path, **kwargs: Any) -> ImportBatch:
    batch = import_batch_create(project=project, path=path, file_name=path.name, **kwargs)
    return import_run(batch=batch)


def store_pandalm(project: Any, tmp_path: Path) -> None:
    """Twenty PandaLM pairs (idx 0 to 19), three votes each."""
    good = tmp_path / "already-stored.json"
    good.write_text(json.dumps([pandalm_record(i) for i in range(20)]))
    batch = run_import(project, good)
    assert batch.status == ImportBatch.Status.DONE and batch.pairs_created == 20
    assert batch.votes_created == 60


class Stored:
    """A project that already holds data, and the fingerprint of the whole database taken once
    it was in: by default pairs with votes (PandaLM records, three votes each); ``seed`` stores
    something else instead (items, solutions, verdicts, a benchmark: formats.py)."""

    def __init__(
        self, project: Any, tmp_path: Path, *, seed: Callable[[], None] | None = None
    ) -> None:
        self.project = project
        if seed is None:
            store_pandalm(project, tmp_path)
        else:
            seed()
        self.upto = high_water()
        self.before = fingerprint(self.upto)

    def assert_unchanged(self, *, new_pairs: int = 0, new_votes: int = 0, **new: int) -> None:
        """Nothing stored before was lost or changed; exactly the new rows were added (``new``:
        rows of the other tables in TABLES, none by default)."""
        after = fingerprint(self.upto)
        assert after.checksum == self.before.checksum, "rows stored before were changed"
        added = {name: 0 for name in TABLES} | {"pairs": new_pairs, "votes": new_votes, **new}
        assert {name: after.counts[name] - self.before.counts[name] for name in TABLES} == added


# Markup that runs script if a page ever renders it as HTML: each sets window.__pwned.
SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '<img src="x" onerror="window.__pwned = 1">'
SVG = "<svg onload=window.__pwned=1>"
LINK = "[click](javascript:window.__pwned=1)"
PAYLOAD = f"{SCRIPT} {IMG} {SVG} {LINK} & \"quotes\" 'too'"


def hostile_record(i: int) -> dict[str, Any]:
    """A record with markup in every text field a mapping can fill, metadata included."""
    return {
        "q": f"{i} {PAYLOAD}",
        "good": f"good {PAYLOAD}",
        "bad": f"bad {PAYLOAD}",
        "id": f"<b>{i}</b>{IMG}"[:200],
        "split": "<b>s</b><i>x</i>",
        "ma": f"{SCRIPT}model",
        "mb": IMG,
        "note": PAYLOAD,
    }


HOSTILE_MAPPING = {
    "prompt": "q",
    "chosen": "good",
    "rejected": "bad",
    "id": "id",
    "split": "split",
    "model_a": "ma",
    "model_b": "mb",
}


PAYLOAD_MARKUP = (SCRIPT, IMG, SVG)
RECORD_MARKUP = (*PAYLOAD_MARKUP, "<b>", "<i>")  # hostile_record's ids and splits add these


def raw_markup(content: str, marks: tuple[str, ...] = RECORD_MARKUP) -> list[str]:
    """The markup of PAYLOAD (by default, and of hostile_record) that a page shows live."""
    return [m for m in marks if m in content]
