"""A scoring run whose encoding two worker processes share gets the scores one worker gets, and
a run whose shard worker is SIGKILLed mid-shard still completes, once, with the same scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.scoring.shard_workers import (
    OPTIONS,
    finished,
    forget_embeddings,
    pid_of,
    shard_workers,
    shard_workers_of,
    stored_scores,
    use_shard_queue,
    wait_for_shard_on_other_worker,
)
from tests.scoring.test_a_scoring_run_on_a_worker_stores_every_labelled_pair import load_pairs
from webapp.jobs.models import Job
from webapp.review.models import NoiseFit
from webapp.scoring.models import EncodeShard, PairScore, ScoringRun, StoredEmbedding
from webapp.scoring.services import scoring_run_create

# two scoring runs each, with workers to start
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _one_worker_run(project: Any, workers: Any) -> ScoringRun:
    forget_embeddings()
    run = scoring_run_create(project=project, options=OPTIONS)
    job = finished(run)
    assert job.status == Job.Status.SUCCEEDED, job.error
    return run


def test_two_workers_share_the_shards_and_store_the_same_scores(
    transactional_db: Any, project: Any, tmp_path: Path, settings: Any
) -> None:
    use_shard_queue(settings)
    load_pairs(project, tmp_path, n=120)
    with shard_workers(tmp_path) as workers:
        workers.start("first")
        alone = _one_worker_run(project, workers)
        assert len(shard_workers_of(alone)) == 1
        n_shards = EncodeShard.objects.filter(run=alone).count()
        assert n_shards > 4  # the texts were cut into shards, and each is done
        assert not EncodeShard.objects.filter(run=alone).exclude(status="done").exists()

        forget_embeddings()
        workers.start("second")
        shared = scoring_run_create(project=project, options=OPTIONS)
        job = finished(shared)
        assert job.status == Job.Status.SUCCEEDED, job.error
    # both processes encoded shards of the second run, and each shard was encoded once
    assert len(shard_workers_of(shared)) == 2
    shards = EncodeShard.objects.filter(run=shared)
    assert shards.count() == n_shards and {s.attempts for s in shards} == {1}
    assert sum(s.n_texts for s in shards) == StoredEmbedding.objects.count()
    assert stored_scores(shared) == stored_scores(alone)
    assert len(stored_scores(shared)) == PairScore.objects.filter(run=shared).count() > 120


def test_a_run_whose_shard_worker_is_killed_completes_once_and_correctly(
    transactional_db: Any, project: Any, tmp_path: Path, settings: Any
) -> None:
    use_shard_queue(settings)
    load_pairs(project, tmp_path, n=120)
    with shard_workers(tmp_path) as workers:
        workers.start("coordinator-or-not")
        workers.start("the-other")
        forget_embeddings()
        run = scoring_run_create(project=project, options=OPTIONS)
        assert run.job is not None
        coordinator = Job.objects.get(pk=run.job.pk)
        while not coordinator.worker:
            coordinator.refresh_from_db()
        victim = wait_for_shard_on_other_worker(run, coordinator.worker)
        workers.kill(pid_of(victim.worker))
        job = finished(run)
        assert job.status == Job.Status.SUCCEEDED, job.error
        assert job.attempts == 1  # the coordinator was never replaced

        # the killed shard was taken again by the worker left, and finished
        victim.refresh_from_db()
        assert victim.status == EncodeShard.Status.DONE and victim.attempts == 2
        assert victim.worker == coordinator.worker
        run.refresh_from_db()
        assert run.complete
        # the follow-up steps ran once, for one set of scores
        assert NoiseFit.objects.filter(project=project, scoring_run=run).count() == 1
        killed = stored_scores(run)
        assert len(killed) == PairScore.objects.filter(run=run).count() > 120

        # the same as a run no worker died in
        alone = _one_worker_run(project, workers)
    assert killed == stored_scores(alone)
