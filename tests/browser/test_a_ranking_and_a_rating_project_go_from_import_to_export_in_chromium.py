"""End to end on real data, in Chromium: a ranking project from MT-Bench's judge scores and a
rating project from USR's human ratings are imported, labelled by keyboard, scored by a real
worker, reviewed by keyboard and exported, and the export loads in ``datasets``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest

from tests.browser.conftest import log_in
from tests.conftest import shared_data, wait_until
from tests.factories import PASSWORD
from tests.labelling.helpers import annotator
from webapp.exports.models import ExportSnapshot
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write
from webapp.imports.services import import_batch_create, import_run
from webapp.jobs.models import Job
from webapp.labelling.models import ItemAnswer
from webapp.pairs.labels import effective_label
from webapp.pairs.models import Item, Pair
from webapp.projects.models import Membership
from webapp.projects.services import project_create
from webapp.review.models import ReviewDecision
from webapp.scoring.services import ScoringOptions, scoring_run_create

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SMALL = ScoringOptions(n_models=3, n_folds=3, epochs=2)
USR_ATTRIBUTES = [
    ("understandability", 0, 1), ("naturalness", 1, 3), ("coherence", 1, 3),
    ("engagingness", 1, 3), ("groundedness", 0, 1), ("overall", 1, 5),
]  # fmt: skip


def imported(project: Any, path: Path, **kwargs: Any) -> None:
    batch = import_run(
        batch=import_batch_create(project=project, path=path, file_name=path.name, **kwargs)
    )
    assert batch.status == "done" and batch.records_rejected == 0, (batch.error, batch.errors)


def token(page: Any) -> str:
    return str(page.get_attribute("#stage section.item", "data-token"))


def next_item(page: Any, before: str) -> None:
    page.wait_for_function(
        "t => { const s = document.querySelector('#stage section.item, #stage section.pair-done');"
        " return s && s.dataset.token !== t; }",
        arg=before,
    )
    page.wait_for_selector("#save-state[data-state=saved]")


def score_review_export(page: Any, project: Any, tmp_path: Path) -> tuple[Any, datasets.Dataset]:
    """A scoring run on the worker, a reviewer's flip by keyboard on the review page, an
    export loaded by datasets; the flipped pair's exported chosen is the one it flipped to."""
    run = scoring_run_create(project=project, options=SMALL)
    assert run.job is not None
    wait_until(lambda: Job.objects.get(pk=run.job.pk).is_finished, timeout=300)
    job = Job.objects.get(pk=run.job.pk)
    assert job.status == Job.Status.SUCCEEDED, job.error
    run.refresh_from_db()
    overall = Pair.objects.filter(project=project, item__isnull=False, attribute="")
    assert run.n_pairs <= overall.count()  # per-attribute pairs are not scored as one reward
    annotator(project, f"rev-{project.pk}", Membership.Role.REVIEWER, login=True)
    page.context.clear_cookies()
    log_in(page, f"rev-{project.pk}", PASSWORD)
    labelled = [
        p
        for p in overall.order_by("id")
        if (e := effective_label(project=project, pair_id=p.pk)) and e.label in ("a", "b")
    ]
    pair = labelled[0]
    before = effective_label(project=project, pair_id=pair.pk)
    assert before is not None
    page.goto(f"/projects/{project.pk}/review/pairs/{pair.pk}/")
    page.wait_for_selector(f"#review[data-pair='{pair.pk}']")
    page.keyboard.press("f")
    wait_until(lambda: ReviewDecision.objects.filter(pair=pair, action="flip").exists(), timeout=20)
    after = effective_label(project=project, pair_id=pair.pk)
    assert after is not None and after.label != before.label and after.source == "review"
    snapshot = export_write(
        snapshot=export_create(
            project=project, file_format="jsonl", spec=ExportSpec(), enqueue=False
        )
    )
    files = {
        f["hf_split"]: str(snapshot.path / f["name"])
        for f in snapshot.files
        if f["split"] and f["rows"]
    }
    rows = datasets.load_dataset("json", data_files=files, cache_dir=str(tmp_path / "hf"))
    exported = [r for split in rows.values() for r in split if r["pair_id"] == pair.pk]
    assert len(exported) == 1
    chosen = pair.response_a.text if after.label == "a" else pair.response_b.text
    assert exported[0]["chosen"] == chosen and exported[0]["label_source"] == "review"
    assert "## How the pairs were derived" in (snapshot.path / "README.md").read_text()
    return snapshot, next(iter(rows.values()))


def test_a_ranking_project_from_mt_bench_goes_end_to_end(
    page: Any, celery_worker: Any, tmp_path: Path
) -> None:
    path = shared_data("ratings/mt-bench-gpt4-scores.json")
    settings = {"attributes": [{"name": "score", "low": 1, "high": 5}], "overall": {"score": 1}}
    # three judge runs answered already; each item wants one person's ranking more
    project = project_create(
        name="MT-Bench ranks", label_scheme="ranking", scheme_settings=settings, votes_per_pair=4
    )
    imported(project, path)
    annotator(project, "ranker", login=True)
    log_in(page, "ranker", PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    assert "Rank the responses" in page.inner_text("#task")
    # (keys, tiers in shown numbers): a tie by "=", a wrong key taken back by Backspace
    plan = [("3 1 = 4 2", [[3], [1, 4], [2]]), ("1 2 Backspace 4 2 3", [[1], [4], [2], [3]])]
    tokens = []
    for keys, _ in plan:
        tokens.append(token(page))
        for key in keys.split():
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        next_item(page, tokens[-1])
    assert page.inner_text("#my-votes") == "2"
    for tok, (_, tiers) in zip(tokens, plan, strict=True):
        answer = ItemAnswer.objects.get(assignment__token=tok)
        shown = answer.shown_order
        assert answer.payload["tiers"] == [sorted(shown[n - 1] for n in tier) for tier in tiers]
    # undo the last answer by keyboard: it comes back filled in, and its votes go
    page.keyboard.press("u")
    page.wait_for_function(
        "t => document.querySelector('#stage section.item').dataset.token === t", arg=tokens[-1]
    )
    assert not ItemAnswer.objects.filter(assignment__token=tokens[-1]).exists()
    assert "4. Response 3" in page.inner_text("#answer")
    page.keyboard.press("Enter")
    next_item(page, tokens[-1])
    assert ItemAnswer.objects.filter(annotator__username="ranker").count() == 2
    score_review_export(page, project, tmp_path)
    rankings = datasets.load_dataset(
        "json",
        data_files=str(export_dir(project) / "rankings.jsonl"),
        split="train",
        cache_dir=str(tmp_path / "hf2"),
    )
    assert len(rankings) == Item.objects.filter(project=project).count() == 80
    assert sum(len(r["answers"]) for r in rankings) == 3 * 80 + 2


def export_dir(project: Any) -> Path:
    snapshot = ExportSnapshot.objects.filter(project=project).order_by("-version").first()
    assert snapshot is not None
    return Path(snapshot.path)


def test_a_rating_project_from_usr_goes_end_to_end(
    page: Any, celery_worker: Any, tmp_path: Path
) -> None:
    path = shared_data("ratings/usr-topical-chat.json")
    attributes = [{"name": n, "low": lo, "high": hi} for n, lo, hi in USR_ATTRIBUTES]
    settings = {"attributes": attributes, "overall": {"overall": 1}}
    project = project_create(
        name="USR ratings", label_scheme="rating", scheme_settings=settings, votes_per_pair=2
    )
    mapping = {
        "prompt": "source",
        "response": "system_output",
        "model": "system_id",
        "ratings": "scores",
    }
    imported(project, path, fmt="mapping", mapping=mapping)
    annotator(project, "rater", login=True)
    log_in(page, "rater", PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    assert "Rate each response" in page.inner_text("#task")
    before = token(page)
    # one row of keys per attribute, response after response: the top of every scale but one
    keys = []
    for response in range(6):
        for name, low, high in USR_ATTRIBUTES:
            keys.append(str(low if (response, name) == (0, "overall") else high))
    page.keyboard.press("9")  # outside every scale: refused, the cell stays empty
    assert "Use" in page.inner_text("#hint")
    for key in keys:
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    next_item(page, before)
    answer = ItemAnswer.objects.get(annotator__username="rater")
    first = str(answer.shown_order[0])
    assert answer.payload["ratings"][first]["overall"] == 1
    assert all(
        v == dict((n, hi) for n, _, hi in USR_ATTRIBUTES)[k]
        for p, r in answer.payload["ratings"].items()
        if p != first
        for k, v in r.items()
    )
    assert Pair.objects.filter(item=answer.item, attribute="engagingness").count() == 15
    snapshot, rows = score_review_export(page, project, tmp_path)
    assert {"attribute", "margin"} <= set(rows.column_names)
    ratings = datasets.load_dataset(
        "json",
        data_files=str(snapshot.path / "ratings.jsonl"),
        split="train",
        cache_dir=str(tmp_path / "hf2"),
    )
    assert len(ratings) == 360
    assert {n for n, _, _ in USR_ATTRIBUTES} <= set(ratings.column_names)
