"""Files of several responses per prompt become items; their scores or rankings become answers of
named imported annotators, which derive pairs; a record that does not fit is named by file,
line and field, and the rest is stored."""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import shared_data
from webapp.imports.models import ImportBatch
from webapp.imports.services import import_batch_create, import_run
from webapp.labelling.models import ItemAnswer, Vote
from webapp.pairs.models import Item, Pair
from webapp.projects.services import project_create

pytestmark = pytest.mark.django_db

SCORE = {"attributes": [{"name": "score", "low": 1, "high": 5}], "overall": {"score": 1}}


def run(project: Any, path: Path, **kwargs: Any) -> ImportBatch:
    batch = import_batch_create(project=project, path=path, file_name=path.name, **kwargs)
    return import_run(batch=batch)


def mt_bench() -> list[dict[str, Any]]:
    return json.loads(shared_data("ratings/mt-bench-gpt4-scores.json").read_text())


def test_mt_bench_scores_become_three_judges_rankings_in_a_ranking_project() -> None:
    rows = mt_bench()
    project = project_create(name="mt ranks", label_scheme="ranking", scheme_settings=SCORE)
    batch = run(project, shared_data("ratings/mt-bench-gpt4-scores.json"))
    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert batch.records_rejected == 0, batch.errors
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["idx"]].append(row)
    assert Item.objects.filter(project=project).count() == batch.items_created == len(groups)
    assert ItemAnswer.objects.filter(project=project).count() == 3 * len(groups)
    names = set(ItemAnswer.objects.values_list("annotator__username", flat=True))
    assert names == {f"import-p{project.pk}-gpt4-{k}" for k in (1, 2, 3)}
    # Expected votes, counted from the file: each judge run, each pair of an idx's responses.
    ties = decisive = 0
    for group in groups.values():
        for run_index in range(3):
            for x, y in combinations(group, 2):
                same = x["gpt4_score"][run_index] == y["gpt4_score"][run_index]
                ties += same
                decisive += not same
    assert Vote.objects.filter(pair__project=project, choice="tie").count() == ties
    assert Vote.objects.filter(pair__project=project).exclude(choice="tie").count() == decisive
    sizes = sum(len(g) * (len(g) - 1) // 2 for g in groups.values())
    assert Pair.objects.filter(project=project, item__isnull=False).count() == sizes
    # One item by hand: the responses in file order, the first judge's tiers from its scores.
    # MT-Bench's second turns follow each model's own first answer: the item's prompt is the
    # dialogue they share, and each response starts with the rest of its own dialogue.
    first = Item.objects.get(project=project, external_id=str(rows[0]["idx"]))
    texts = [r.response.text for r in first.responses.order_by("position")]
    group = groups[rows[0]["idx"]]
    for text, row in zip(texts, group, strict=True):
        instruction = row["instruction"]
        dialogue = instruction.split("###The instruction to evaluate:")[1].split("###Response")[0]
        answer = instruction.split("###Response to evaluate:")[1].split("###Reference Answer")[0]
        assert text.endswith(answer.strip())
        assert (first.prompt.text + " " + text).startswith(dialogue.strip()[:200])
    answer = ItemAnswer.objects.get(item=first, annotator__username__endswith="gpt4-1")
    scores = [row["gpt4_score"][0] for row in group]
    levels = sorted(set(scores), reverse=True)
    assert answer.payload["tiers"] == [
        [p for p, s in enumerate(scores) if s == level] for level in levels
    ]
    again = run(project, shared_data("ratings/mt-bench-gpt4-scores.json"))
    assert (again.items_created, again.answers_created, again.pairs_created) == (0, 0, 0)


def test_usr_ratings_come_in_by_a_row_mapping_as_six_attributes() -> None:
    path = shared_data("ratings/usr-topical-chat.json")
    rows = json.loads(path.read_text())
    attributes = [
        {"name": n, "low": lo, "high": hi}
        for n, lo, hi in [
            ("understandability", 0, 1), ("naturalness", 1, 3), ("coherence", 1, 3),
            ("engagingness", 1, 3), ("groundedness", 0, 1), ("overall", 1, 5),
        ]
    ]  # fmt: skip
    settings = {"attributes": attributes, "overall": {"overall": 1}}
    project = project_create(name="usr", label_scheme="rating", scheme_settings=settings)
    mapping = {"prompt": "source", "response": "system_output", "model": "system_id"}
    batch = run(project, path, fmt="mapping", mapping={**mapping, "ratings": "scores"})
    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert batch.records_rejected == 0, batch.errors
    contexts = {row["source"] for row in rows}
    assert batch.items_created == len(contexts)
    item = Item.objects.filter(project=project).order_by("source_line").first()
    assert item is not None
    responses = list(item.responses.order_by("position").select_related("response"))
    mine = [row for row in rows if row["source"] == rows[0]["source"]]
    assert [r.response.source_model for r in responses] == [row["system_id"] for row in mine]
    answer = ItemAnswer.objects.get(item=item)
    assert answer.payload["ratings"]["2"]["naturalness"] == mine[2]["scores"]["naturalness"]
    # Pairs: 15 per item on each of six attributes and overall.
    k = len(mine)
    assert Pair.objects.filter(item=item).count() == 7 * k * (k - 1) // 2
    pair = Pair.objects.get(item=item, attribute="engagingness", metadata__positions=[0, 1])
    gap = mine[0]["scores"]["engagingness"] - mine[1]["scores"]["engagingness"]
    assert pair.margin == pytest.approx(gap)


def test_a_record_that_does_not_fit_the_settings_is_named_and_the_rest_stored(
    tmp_path: Path,
) -> None:
    project = project_create(name="lw", label_scheme="rating", scheme_settings=SCORE)
    path = tmp_path / "lw.jsonl"
    good = {"prompt": "p1", "responses": ["x", "y", "z"], "scores": {"r1": [1, 5, 3]}}
    out_of_scale = {"prompt": "p2", "responses": ["x", "y"], "scores": {"r1": [1, 9]}}
    short = {"prompt": "p3", "responses": ["x", "y"], "scores": [2]}
    lines = [good, out_of_scale, short]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    batch = run(project, path)
    assert batch.fmt == "listwise"
    assert (batch.items_created, batch.records_rejected) == (1, 2)
    by_line = {e["line"]: (e["file"], e["field"]) for e in batch.errors}
    assert by_line == {2: ("lw.jsonl", "r1: ratings.1.score"), 3: ("lw.jsonl", "scores")}
    assert "between 1 and 5" in batch.errors[0]["reason"]


def test_a_file_of_items_into_a_pair_project_is_refused_whole(tmp_path: Path) -> None:
    project = project_create(name="pairs only")
    path = tmp_path / "lw.jsonl"
    path.write_text(json.dumps({"prompt": "p", "responses": ["a", "b"], "ranking": [1, 2]}) + "\n")
    batch = run(project, path)
    assert batch.status == ImportBatch.Status.FAILED
    assert "ranking or rating project" in batch.error
    assert not Item.objects.exists()
