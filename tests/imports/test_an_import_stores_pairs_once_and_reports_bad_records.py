"""Importing files into PostgreSQL: counts, idempotence, reports, strict mode, query counts."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from webapp.imports.models import ImportBatch
from webapp.imports.services import import_batch_create, import_run
from webapp.labelling.models import Vote
from webapp.ops.services import DEMO_FILE
from webapp.pairs.models import Pair, Prompt, Response

pytestmark = pytest.mark.django_db


def demo_records(n: int) -> list[dict[str, Any]]:
    """The first n real HH-RLHF records of the bundled demo sample."""
    with gzip.open(DEMO_FILE, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for _, line in zip(range(n), fh, strict=False)]


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def run_import(project: Any, path: Path, **kwargs: Any) -> ImportBatch:
    batch = import_batch_create(project=project, path=path, file_name=path.name, **kwargs)
    return import_run(batch=batch)


def test_it_imports_hh_transcripts_as_prompt_and_two_responses(
    project: Any, tmp_path: Path
) -> None:
    records = demo_records(50)
    batch = run_import(project, write_jsonl(tmp_path / "hh.jsonl", records))
    assert batch.status == ImportBatch.Status.DONE
    assert batch.records_rejected == 0, batch.errors
    assert Pair.objects.filter(project=project).count() == batch.pairs_created == 50
    pair = Pair.objects.filter(project=project).order_by("source_line").first()
    assert pair is not None
    first = records[0]
    head, _, chosen = first["chosen"].rpartition("\n\nAssistant:")
    assert pair.response_a.text == chosen.strip()
    assert pair.imported_label == "a"
    assert pair.source_line == 1
    assert pair.split == first["split"]
    assert pair.prompt.conversation[0]["role"] == "user"
    assert pair.prompt.conversation[0]["content"] in head


def test_importing_the_same_file_twice_changes_nothing(project: Any, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "hh.jsonl", demo_records(40))
    first = run_import(project, path)
    counts = (Pair.objects.count(), Prompt.objects.count(), Response.objects.count())
    second = run_import(project, path)
    assert first.pairs_created == 40
    assert second.pairs_created == 0
    assert second.pairs_existing == 40
    assert (Pair.objects.count(), Prompt.objects.count(), Response.objects.count()) == counts


def test_prompts_shared_by_pairs_are_stored_once(project: Any, tmp_path: Path) -> None:
    rows = [
        {"prompt": "Say hi", "chosen": "Hi!", "rejected": "No."},
        {"prompt": "Say hi", "chosen": "Hello!", "rejected": "No."},
    ]
    run_import(project, write_jsonl(tmp_path / "trl.jsonl", rows))
    assert Pair.objects.count() == 2
    assert Prompt.objects.count() == 1
    assert Response.objects.count() == 3


def test_it_reports_bad_records_with_file_line_and_field_and_keeps_the_good(
    project: Any, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        json.dumps({"prompt": "a", "chosen": "b", "rejected": "c"}) + "\n"
        + "{broken json\n"
        + json.dumps({"prompt": "a", "chosen": 7, "rejected": "c"}) + "\n"
        + json.dumps({"prompt": "d", "chosen": "e", "rejected": "f"}) + "\n"
    )  # fmt: skip
    batch = run_import(project, path)
    assert batch.status == ImportBatch.Status.DONE
    assert batch.pairs_created == 2
    assert batch.records_rejected == 2
    lines = {e["line"]: e for e in batch.errors}
    assert set(lines) == {2, 3}
    assert lines[3]["field"] == "chosen"
    assert all(e["file"] == "mixed.jsonl" for e in batch.errors)


def test_strict_mode_imports_nothing_when_a_record_is_bad(project: Any, tmp_path: Path) -> None:
    records: list[Any] = [{"prompt": f"p{i}", "chosen": "x", "rejected": "y"} for i in range(30)]
    records[17] = {"prompt": "p", "chosen": "x"}
    batch = run_import(project, write_jsonl(tmp_path / "strict.jsonl", records), strict=True)
    assert batch.status == ImportBatch.Status.REJECTED
    assert batch.records_rejected == 1
    assert batch.errors[0]["line"] == 18
    assert Pair.objects.count() == 0
    assert Prompt.objects.count() == 0


def test_a_failed_import_loses_nothing_already_stored(project: Any, tmp_path: Path) -> None:
    run_import(project, write_jsonl(tmp_path / "good.jsonl", demo_records(10)))
    before = list(Pair.objects.values_list("id", "imported_label").order_by("id"))
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(b"this is not gzip")
    batch = run_import(project, bad)
    assert batch.status == ImportBatch.Status.FAILED
    assert "bad.jsonl.gz" in batch.error
    assert list(Pair.objects.values_list("id", "imported_label").order_by("id")) == before


def test_pandalm_votes_become_votes_of_three_import_annotators(
    project: Any, tmp_path: Path
) -> None:
    records = [
        {"idx": 1, "motivation_app": "x", "cmp_key": "llama-7b_bloom-7b", "instruction": "Sum",
         "input": "2+2", "response1": "4", "response2": "5",
         "annotator1": 1, "annotator2": 1, "annotator3": 2},
        {"idx": 2, "motivation_app": "x", "cmp_key": "llama-7b_bloom-7b", "instruction": "Hi",
         "input": "", "response1": "Hello", "response2": "Hey",
         "annotator1": 0, "annotator2": 2, "annotator3": 2},
    ]  # fmt: skip
    path = tmp_path / "pandalm.json"
    path.write_text(json.dumps(records, indent=1))
    batch = run_import(project, path)
    assert batch.pairs_created == 2
    assert batch.votes_created == 6
    first = Pair.objects.get(project=project, external_id="1")
    assert first.imported_label == "a"
    assert first.response_a.source_model == "llama-7b"
    choices = dict(first.votes.values_list("annotator__username", "choice"))
    assert sorted(choices.values()) == ["a", "a", "b"]
    # the same file again: no new pairs, no new votes
    again = run_import(project, path)
    assert (again.pairs_created, again.votes_created) == (0, 0)
    assert Vote.objects.count() == 6


def test_the_number_of_queries_does_not_grow_with_the_number_of_records(
    project: Any, tmp_path: Path
) -> None:
    def queries_for(n: int) -> int:
        rows = [{"prompt": f"q{n}-{i}", "chosen": f"c{i}", "rejected": f"r{i}"} for i in range(n)]
        path = write_jsonl(tmp_path / f"n{n}.jsonl", rows)
        with CaptureQueriesContext(connection) as ctx:
            run_import(project, path)
        return len(ctx.captured_queries)

    assert queries_for(20) == queries_for(2000)
