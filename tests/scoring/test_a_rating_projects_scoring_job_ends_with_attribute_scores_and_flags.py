"""On a real Celery worker, a rating project's scoring job scores its derived overall pairs,
then (the pipeline's step after scoring) fits the attribute heads and raises the rating flags
before the job succeeds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import wait_until
from tests.scoring.rated import N_ITEMS, K, rated_project
from webapp.flags.models import Flag
from webapp.jobs.models import Job
from webapp.scoring.models import AttributeScore, PairScore
from webapp.scoring.services import ScoringOptions, scoring_run_create

pytestmark = pytest.mark.slow


def test_the_job_scores_pairs_and_responses_and_flags_the_planted_ratings(
    celery_worker: Any, admin_user: Any
) -> None:
    rated = rated_project(admin_user)
    run = scoring_run_create(
        project=rated.project,
        options=ScoringOptions(n_models=3, n_folds=3, epochs=2, max_length=64),
    )
    assert run.job is not None
    wait_until(lambda: Job.objects.get(pk=run.job.pk).is_finished, timeout=300)
    job = Job.objects.get(pk=run.job.pk)
    assert job.status == Job.Status.SUCCEEDED, job.error
    run.refresh_from_db()
    # the overall pairs only: three per item
    assert PairScore.objects.filter(run=run).exclude(pair__attribute="").count() == 0
    assert PairScore.objects.filter(run=run).count() > N_ITEMS
    assert AttributeScore.objects.filter(run=run).count() == N_ITEMS * K * 3
    assert run.summary["attributes"]["unpredictable"] == ["noise"]
    kinds = set(Flag.objects.filter(scoring_run=run).values_list("kind", flat=True))
    assert {"rating_far", "overall_contradicts"} <= kinds
