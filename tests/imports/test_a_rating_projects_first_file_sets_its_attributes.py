"""A rating project with the default attributes takes its attributes, and their scales, from
its first file of HelpSteer2 rows or UltraFeedback records; a project with attributes of its
own, or with items already, keeps them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from webapp.imports.attributes import attributes_seen
from webapp.imports.formats import open_records
from webapp.imports.services import import_batch_create, import_run
from webapp.labelling.models import ItemAnswer
from webapp.projects.schemes import scheme_settings_of
from webapp.projects.services import project_create

pytestmark = pytest.mark.django_db


def write(path: Path, *records: object) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def helpsteer2(tmp_path: Path) -> Path:
    """HelpSteer2 rows on three of its five attribute columns, ratings 1 to 3."""

    def row(prompt: str, response: str, h: int, c: int, v: int) -> dict[str, Any]:
        return {"prompt": prompt, "response": response, "helpfulness": h, "correctness": c,
                "verbosity": v}  # fmt: skip

    return write(
        tmp_path / "hs2.jsonl",
        row("p1", "a", 3, 2, 1), row("p1", "b", 1, 1, 2),
        row("p2", "x", 2, 3, 3), row("p2", "y", 2, 2, 2),
    )  # fmt: skip


def ultrafeedback(tmp_path: Path) -> Path:
    def completion(response: str, **ratings: int) -> dict[str, Any]:
        return {"model": "m", "response": response,
                "annotations": {k: {"Rating": str(v)} for k, v in ratings.items()}}  # fmt: skip

    record = {
        "instruction": "Name a prime.",
        "completions": [
            completion("7", honesty=4, instruction_following=5),
            completion("9", honesty=2, instruction_following=3),
        ],
    }
    return write(tmp_path / "uf.jsonl", record)


def run(project: Any, path: Path) -> Any:
    return import_run(batch=import_batch_create(project=project, path=path, file_name=path.name))


def names_and_scales(project: Any) -> list[tuple[str, float, float]]:
    project.refresh_from_db()
    return [(a.name, a.low, a.high) for a in scheme_settings_of(project).attributes]


def test_helpsteer2_columns_become_the_attributes_on_helpsteer2s_scale(tmp_path: Path) -> None:
    project = project_create(name="hs2", label_scheme="rating")
    assert len(names_and_scales(project)) == 5  # the default five
    batch = run(project, helpsteer2(tmp_path))
    assert batch.status == "done" and batch.records_rejected == 0, (batch.error, batch.errors)
    # the data's 1 to 3 lies within HelpSteer2's 0 to 4, which is kept
    expected = [("helpfulness", 0, 4), ("correctness", 0, 4), ("verbosity", 0, 4)]
    assert names_and_scales(project) == expected
    assert [(a["name"], a["low"], a["high"]) for a in batch.attributes_set] == expected
    settings = scheme_settings_of(project)
    assert settings.overall == (("helpfulness", 1.0),)
    answer = ItemAnswer.objects.get(item__external_id="", item__prompt__text="p1")
    assert answer.payload["ratings"]["0"] == {"helpfulness": 3, "correctness": 2, "verbosity": 1}


def test_ultrafeedback_aspects_become_the_attributes_with_the_plain_mean(tmp_path: Path) -> None:
    project = project_create(name="uf", label_scheme="rating")
    batch = run(project, ultrafeedback(tmp_path))
    assert batch.status == "done" and batch.records_rejected == 0, (batch.error, batch.errors)
    assert names_and_scales(project) == [("honesty", 1, 5), ("instruction_following", 1, 5)]
    assert scheme_settings_of(project).overall == ()  # no helpfulness: the mean of both
    assert ItemAnswer.objects.filter(project=project).count() == 1


def test_own_attributes_and_a_second_file_are_left_alone(tmp_path: Path) -> None:
    own = {"attributes": [{"name": "helpfulness", "low": 0, "high": 4}]}
    project = project_create(name="own", label_scheme="rating", scheme_settings=own)
    batch = run(project, helpsteer2(tmp_path))
    assert batch.attributes_set == []
    assert names_and_scales(project) == [("helpfulness", 0, 4)]

    later = project_create(name="later", label_scheme="rating")
    run(later, helpsteer2(tmp_path))
    before = names_and_scales(later)
    second = run(later, ultrafeedback(tmp_path))  # has items now: its settings stay
    assert second.attributes_set == [] and names_and_scales(later) == before


def test_scales_follow_the_data_where_no_format_scale_is_known(tmp_path: Path) -> None:
    def record(scores: list[float]) -> dict[str, Any]:
        return {"prompt": "p", "responses": ["a", "b", "c"], "scores": scores}

    whole = open_records(write(tmp_path / "w.jsonl", record([2, 7, 5])))
    assert attributes_seen(whole, fmt=whole.format) == [{"name": "score", "low": 2, "high": 7}]
    wide = open_records(write(tmp_path / "x.jsonl", record([0, 50, 100])))
    assert attributes_seen(wide, fmt=wide.format) == []  # 101 whole steps: not sensible
