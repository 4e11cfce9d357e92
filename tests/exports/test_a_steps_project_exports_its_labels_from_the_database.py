"""A steps project exports through the command: the solution whose third step two annotators
of three marked wrong comes out, in the stepwise layout, as its first three steps labelled
right, right, wrong (the aggregate's, not the imported label), and in the first-error layout
with label 2; ``datasets`` loads both folders."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import datasets
import pytest
from django.core.management import call_command

from tests.labelling.helpers import annotator
from webapp.labelling.items import AnswerRow, item_answers_store
from webapp.pairs.models import Item
from webapp.projects.models import Project

pytestmark = pytest.mark.django_db

STEPS = ["3 * 4 = 12.", "2 + 12 = 14.", "So it is 20.", "The answer is 20."]


@pytest.fixture(autouse=True)
def _hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    datasets.disable_progress_bars()


def _project(tmp_path: Path) -> tuple[Project, Item]:
    rows = [
        {"id": "third", "problem": "What is 2 + 3 * 4?", "steps": STEPS, "label": -1,
         "final_answer_correct": False},
        {"id": "fine", "problem": "What is 1 + 1?", "steps": ["1 + 1 = 2.", "It is 2."],
         "label": -1, "final_answer_correct": True},
        {"id": "unlabelled", "problem": "Q?", "steps": ["a", "b"], "label": None},
    ]  # fmt: skip
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    call_command("import_pairs", str(path), "--project", "steps", "--format", "processbench",
                 stdout=StringIO(), stderr=StringIO())  # fmt: skip
    project = Project.objects.get(name="steps")
    item = Item.objects.get(external_id="third")
    people = [annotator(project, name) for name in ("a", "b")]
    marks = ([1, 1, -1, None], [1, 0, -1, None])
    answers = [
        AnswerRow(item.pk, person.pk, "steps", {"steps": steps, "first_error": 2})
        for person, steps in zip(people, marks, strict=True)
    ]
    item_answers_store(project=project, answers=answers)
    return project, item


def _export(tmp_path: Path, name: str, *extra: str) -> Path:
    out = tmp_path / name
    call_command("export_dataset", "--project", "steps", "--format", "jsonl", "--out", str(out),
                 *extra, stdout=StringIO(), stderr=StringIO())  # fmt: skip
    return out


def test_the_stepwise_export_holds_the_aggregated_labels(tmp_path: Path) -> None:
    _, item = _project(tmp_path)
    out = _export(tmp_path, "stepwise")
    loaded: Any = datasets.load_dataset(str(out), cache_dir=str(out.parent / "hf"))["train"]
    rows = {r["item_id"]: r for r in loaded}
    assert len(rows) == 2  # the unlabelled solution is left out, and the card says so
    third = rows[item.pk]
    assert third["prompt"] == "What is 2 + 3 * 4?"
    assert third["completions"] == STEPS[:3]
    assert third["labels"] == [True, True, False]
    assert third["label_source"] == "dawid_skene"
    card = (out / "README.md").read_text()
    assert "no step labelled: 1" in card and "stepwise supervision" in card


def test_the_first_error_export_and_the_conversational_style(tmp_path: Path) -> None:
    _, item = _project(tmp_path)
    first = _export(tmp_path, "first", "--layout", "first_error")
    loaded: Any = datasets.load_dataset(str(first), cache_dir=str(first.parent / "hf-first"))[
        "train"
    ]
    rows = {r["item_id"]: r for r in loaded}
    assert rows[item.pk]["label"] == 2 and rows[item.pk]["steps"] == STEPS
    assert rows[item.pk]["id"] == "third" and rows[item.pk]["final_answer_correct"] is False
    chat = _export(tmp_path, "chat", "--style", "conversational")
    loaded = datasets.load_dataset(str(chat), cache_dir=str(chat.parent / "hf-chat"))["train"]
    row = next(r for r in loaded if r["item_id"] == item.pk)
    assert row["prompt"] == [{"role": "user", "content": "What is 2 + 3 * 4?"}]
    assert row["completions"][2] == {"role": "assistant", "content": "So it is 20."}
