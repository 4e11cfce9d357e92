"""Scoring runs end to end: a real Celery worker trains a small ensemble on real pairs."""

from __future__ import annotations

import gzip
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import wait_until
from tests.factories import MembershipFactory, UserFactory
from webapp.flags.models import Flag
from webapp.imports.services import import_batch_create, import_run
from webapp.jobs.models import Job
from webapp.jobs.services import job_cancel
from webapp.labelling.models import Vote
from webapp.ops.services import DEMO_FILE
from webapp.pairs.models import Pair
from webapp.scoring.models import PairScore, ScoringRun
from webapp.scoring.services import ScoringOptions, scoring_run_create

pytestmark = pytest.mark.slow
SMALL = ScoringOptions(n_models=3, n_folds=3, epochs=2)


def load_pairs(project: Any, tmp_path: Path, n: int = 120) -> None:
    with gzip.open(DEMO_FILE, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for _, line in zip(range(n), fh, strict=False)]
    # a degenerate pair and a duplicate whose label conflicts, built from real text
    records.append({"prompt": "Say hello", "chosen": "Hello!", "rejected": "Hello!"})
    records.append({"prompt": "Capital of France?", "chosen": "Paris", "rejected": "Lyon"})
    records.append({"prompt": "Capital of France?", "chosen": "Lyon", "rejected": "Paris"})
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "source"}) + "\n"
                            for r in records))  # fmt: skip
    # mixed HH and TRL records go in as two files: each file has one format
    hh = tmp_path / "hh.jsonl"
    trl = tmp_path / "trl.jsonl"
    lines = path.read_text().splitlines()
    hh.write_text("\n".join(lines[:n]) + "\n")
    trl.write_text("\n".join(lines[n:]) + "\n")
    for f in (hh, trl):
        batch = import_batch_create(project=project, path=f, file_name=f.name)
        import_run(batch=batch)


def finish(run: ScoringRun) -> Job:
    assert run.job is not None
    wait_until(lambda: Job.objects.get(pk=run.job.pk).is_finished, timeout=240)
    return Job.objects.get(pk=run.job.pk)


def test_a_run_stores_every_labelled_pair_with_flags(
    celery_worker: Any, project: Any, tmp_path: Path
) -> None:
    load_pairs(project, tmp_path)
    flipped = Pair.objects.filter(project=project).order_by("id").first()
    assert flipped is not None
    voters = [UserFactory(username=f"v{i}") for i in range(2)]
    for v in voters:
        Vote.objects.create(pair=flipped, annotator=v, choice="b")
    run = scoring_run_create(project=project, options=SMALL)
    job = finish(run)
    assert job.status == Job.Status.SUCCEEDED, job.error
    run.refresh_from_db()
    assert run.complete and run.n_pairs == Pair.objects.filter(project=project).count()
    scores = PairScore.objects.filter(run=run)
    assert scores.count() == run.n_pairs
    assert all(len(s.margins) == 3 for s in scores[:20])
    # the votes outrank the imported label
    voted = scores.get(pair=flipped)
    assert (voted.label_scored, voted.label_source) == ("b", "votes")
    # the degenerate pair and both halves of the conflicting duplicate are flagged
    kinds = set(Flag.objects.filter(scoring_run=run).values_list("kind", "pair__prompt__text"))
    assert ("degenerate", "Say hello") in kinds
    conflict = {text for kind, text in kinds if kind == "duplicate_conflict"}
    assert conflict == {"Capital of France?"}
    assert Flag.objects.filter(scoring_run=run, kind="duplicate_conflict").count() == 2
    assert 0.0 <= run.summary["frac_mu_negative"] <= 1.0
    assert run.versions["torch"] and run.seeds and run.config["ensemble"]["n_models"] == 3


def test_the_run_page_shows_charts_and_extremes_to_reviewers_only(
    celery_worker: Any, project: Any, tmp_path: Path, client: Any
) -> None:
    load_pairs(project, tmp_path, n=60)
    run = scoring_run_create(project=project, options=SMALL)
    assert finish(run).status == Job.Status.SUCCEEDED
    reviewer = UserFactory(username="rev")
    MembershipFactory(project=project, user=reviewer, role="reviewer")
    client.force_login(reviewer)
    page = client.get(reverse("scoring:run", args=[run.pk]))
    assert page.status_code == 200
    assert b"mu-hist-data" in page.content and b"extremes-negative" in page.content
    annotator = UserFactory(username="ann")
    MembershipFactory(project=project, user=annotator, role="annotator")
    client.force_login(annotator)
    assert client.get(reverse("scoring:run", args=[run.pk])).status_code == 404


def test_a_cancelled_run_stores_nothing_and_is_not_complete(
    celery_worker: Any, project: Any, tmp_path: Path
) -> None:
    load_pairs(project, tmp_path, n=120)
    run = scoring_run_create(project=project, options=ScoringOptions(n_models=8, n_folds=5))
    assert run.job is not None
    wait_until(lambda: Job.objects.get(pk=run.job.pk).status == Job.Status.RUNNING)
    job_cancel(job=run.job)
    job = finish(run)
    assert job.status == Job.Status.CANCELLED
    run.refresh_from_db()
    assert not run.complete
    assert not PairScore.objects.filter(run=run).exists()
    assert not Flag.objects.filter(scoring_run=run).exists()


def test_the_command_waits_and_reports(celery_worker: Any, project: Any, tmp_path: Path) -> None:
    load_pairs(project, tmp_path, n=40)
    out = StringIO()
    call_command(
        "score_pairs", "--project", project.name, "--models", "2", "--folds", "2",
        "--epochs", "1", "--wait", stdout=out, stderr=StringIO(),
    )  # fmt: skip
    assert "Scored 43 pairs" in out.getvalue()
