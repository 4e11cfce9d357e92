"""Helpers for the hostile-input battery: a project with data already stored, and a
fingerprint of that data to show an import of a hostile file left it exactly as it was."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection

from webapp.imports.models import ImportBatch
from webapp.imports.services import import_batch_create, import_run


@dataclass(frozen=True)
class Fingerprint:
    pairs: int
    votes: int
    checksum: str


# Every column of every pair and vote, with their prompt's and responses' texts, in id order.
_FINGERPRINT_SQL = """
    SELECT
        (SELECT count(*) FROM pairs_pair),
        (SELECT count(*) FROM labelling_vote),
        md5(
            coalesce((SELECT string_agg(concat_ws('|', p.id, p.project_id, p.imported_label,
                encode(p.dedup_key, 'hex'), p.split, p.external_id, p.metadata::text,
                p.source_file, p.source_line, pr.text, pr.conversation::text, ra.text,
                ra.source_model, rb.text, rb.source_model), E'\\n' ORDER BY p.id)
             FROM pairs_pair p
             JOIN pairs_prompt pr ON pr.id = p.prompt_id
             JOIN pairs_response ra ON ra.id = p.response_a_id
             JOIN pairs_response rb ON rb.id = p.response_b_id
             WHERE p.id <= %(pair)s), '')
            || coalesce((SELECT string_agg(concat_ws('|', v.id, v.pair_id, v.annotator_id,
                v.choice, v.strength, v.rationale, v.shown_order), E'\\n' ORDER BY v.id)
             FROM labelling_vote v WHERE v.id <= %(vote)s), '')
        )
"""


def fingerprint(upto: tuple[int, int] | None = None) -> Fingerprint:
    """Counts of all pairs and votes, and a checksum of those with ids up to ``upto``
    (pair id, vote id): the rows that were there before, whatever came in since."""
    pair, vote = upto if upto is not None else (2**62, 2**62)
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT_SQL, {"pair": pair, "vote": vote})
        pairs, votes, checksum = cursor.fetchone()
    return Fingerprint(pairs, votes, checksum)


def high_water() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(max(id), 0) FROM pairs_pair UNION ALL "
            "SELECT coalesce(max(id), 0) FROM labelling_vote"
        )
        pair, vote = (row[0] for row in cursor.fetchall())
    return pair, vote


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


class Stored:
    """A project that already holds pairs with votes (PandaLM records, three votes each), and
    the fingerprint of the whole database taken once they were in."""

    def __init__(self, project: Any, tmp_path: Path) -> None:
        self.project = project
        good = tmp_path / "already-stored.json"
        good.write_text(json.dumps([pandalm_record(i) for i in range(20)]))
        batch = run_import(project, good)
        assert batch.status == ImportBatch.Status.DONE and batch.pairs_created == 20
        assert batch.votes_created == 60
        self.upto = high_water()
        self.before = fingerprint(self.upto)

    def assert_unchanged(self, *, new_pairs: int = 0, new_votes: int = 0) -> None:
        """Nothing stored before was lost or changed; exactly the new rows were added."""
        after = fingerprint(self.upto)
        assert after.checksum == self.before.checksum, "rows stored before were changed"
        assert after.pairs == self.before.pairs + new_pairs
        assert after.votes == self.before.votes + new_votes


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
