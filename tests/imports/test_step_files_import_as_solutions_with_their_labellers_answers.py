"""Step files import through the command into a steps project: one item a solution, its steps
kept as spans of one response, the file's labels as answers of its labeller; a bad record is
named and the rest go in; importing twice adds nothing; pairs and steps do not mix."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import shared_data, wait_until
from webapp.imports.models import ImportBatch
from webapp.jobs.models import Job
from webapp.labelling.models import ItemAnswer
from webapp.pairs.models import Item, ItemResponse, Pair
from webapp.pairs.steps import steps_of
from webapp.projects.models import Project

pytestmark = pytest.mark.django_db

RECORD = {
    "id": "g-1",
    "generator": "m",
    "problem": "2 + 2 * 3?",
    "steps": ["2 * 3 = 6.", "2 + 6 = 9.", "The answer is 9."],
    "final_answer_correct": False,
    "label": 1,
}


def _import(path: Path, *extra: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_pairs", str(path), "--project", "steps", *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_processbench_file_becomes_items_and_expert_answers(tmp_path: Path) -> None:
    path = tmp_path / "pb.jsonl"
    bad = {**RECORD, "id": "g-2", "label": 7}
    path.write_text("\n".join(json.dumps(r) for r in (RECORD, bad, {**RECORD, "id": "g-3"})))
    _, err = _import(path)
    assert "pb.jsonl:2 [label]: step index 7 is out of range" in err
    batch = ImportBatch.objects.get()
    assert batch.project.label_scheme == Project.LabelScheme.STEPS
    assert (batch.items_created, batch.answers_created, batch.records_rejected) == (2, 2, 1)
    assert batch.errors == [
        {
            "file": "pb.jsonl",
            "line": 2,
            "field": "label",
            "reason": "step index 7 is out of range: the solution has 3 steps "
            "(0 to 2, or -1 for none wrong)",
        }
    ]
    item = Item.objects.get(external_id="g-1")
    response = ItemResponse.objects.select_related("response").get(item=item)
    assert response.position == 0 and response.response.source_model == "m"
    assert steps_of(response.response.text, response.metadata) == RECORD["steps"]
    assert item.metadata["final_answer_correct"] is False
    answer = ItemAnswer.objects.select_related("annotator").get(item=item)
    assert answer.kind == "steps"
    assert answer.payload == {"steps": [1, -1, None], "first_error": 1}
    assert answer.annotator.username.endswith("-processbench") and not answer.annotator.is_active
    assert not Pair.objects.exists()  # a steps item derives no pairs


def test_importing_the_same_file_again_adds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "pb.json"
    path.write_text(json.dumps([RECORD, {**RECORD, "id": "g-3", "label": -1}]))
    out, _ = _import(path)
    assert "2 new solutions" in out and "2 labels" in out
    out, _ = _import(path)
    assert "0 new solutions, 2 already there" in out
    assert Item.objects.count() == 2 and ItemAnswer.objects.count() == 2


def test_a_pair_file_is_refused_by_a_steps_project(tmp_path: Path) -> None:
    steps = tmp_path / "pb.jsonl"
    steps.write_text(json.dumps(RECORD))
    _import(steps)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"prompt": "p", "chosen": "c", "rejected": "r"}))
    with pytest.raises(Exception, match="some files were not imported"):
        _import(pairs)
    batch = ImportBatch.objects.get(file_name="pairs.jsonl")
    assert "a steps project imports step-by-step solutions, not trl records" in batch.error


@pytest.mark.parametrize(
    ("name", "items", "answers"),
    [
        ("steps/processbench-gsm8k.json", 400, 400),
        ("steps/bbm-logical_deduction.jsonl", 300, 300),
        ("steps/prm800k-phase2-sample.json", 9, 9),
    ],
)
def test_the_real_step_files_import_whole(name: str, items: int, answers: int) -> None:
    _, err = _import(shared_data(name))
    assert err == ""
    assert Item.objects.count() == items and ItemAnswer.objects.count() == answers
    if name.startswith("steps/prm800k"):
        # each PRM800K solution has its own labeller; their ratings, cut after the error
        first = ItemAnswer.objects.order_by("item__source_line").first()
        assert first is not None
        assert first.payload == {"steps": [1, 0, 1, 1, 1, 1, -1], "first_error": 6}
        assert first.annotator.username.endswith("cc88bf76-df08-4041-be67-3464279cb3b1")


def test_a_step_file_uploaded_on_the_page_is_imported_by_the_worker(
    celery_worker: Any, admin_client: Any, project: Any
) -> None:
    project.label_scheme = Project.LabelScheme.STEPS
    project.save(update_fields=["label_scheme"])
    body = json.dumps([RECORD, {**RECORD, "id": "g-9", "label": 5}]).encode()
    data = {"file": SimpleUploadedFile("pb.json", body), "fmt": "auto", "split": "test"}
    response = admin_client.post(reverse("imports:upload", args=[project.pk]), data)
    assert response.status_code == 302
    job = Job.objects.get()
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    batch = ImportBatch.objects.get(job=job)
    assert (batch.fmt, batch.items_created, batch.answers_created) == ("processbench", 1, 1)
    assert Item.objects.get(project=project).split == "test"
    report = admin_client.get(reverse("imports:report", args=[batch.pk])).content.decode()
    assert "label" in report and "step index 5 is out of range" in report
