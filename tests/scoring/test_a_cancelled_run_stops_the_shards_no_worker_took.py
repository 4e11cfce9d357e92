"""Cancelling a scoring run's job: its queued shards end cancelled and no worker can take one;
a shard is claimed by one worker only, and a stale one is queued again, at most three times."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from webapp.jobs.models import Job
from webapp.jobs.services import job_cancel, job_claim
from webapp.scoring.models import EncodeShard
from webapp.scoring.services import ScoringOptions, scoring_run_create
from webapp.scoring.shards import (
    MAX_ATTEMPTS,
    shard_claim,
    shards_cancel,
    shards_plan,
    shards_requeue_stale,
)


def _planned(project: Any, settings: Any, n_texts: int = 10) -> Any:
    settings.SCORING_SHARD_TEXTS = 4
    run = scoring_run_create(project=project, options=ScoringOptions())
    assert job_claim(job_id=run.job.pk) is not None
    texts = [("x" * (i % 5)) + str(i) for i in range(n_texts)]
    shards_plan(run=run, kind="encode", model={}, setting="s" * 24, texts=texts, queue="default")
    return run


def test_shards_are_cut_by_length_and_claimed_once(db: Any, project: Any, settings: Any) -> None:
    run = _planned(project, settings)
    shards = list(EncodeShard.objects.filter(run=run).order_by("index"))
    assert [s.n_texts for s in shards] == [4, 4, 2]
    lengths = [len(t) for s in shards for t in s.texts]
    assert lengths == sorted(lengths)
    assert shard_claim(shard_id=shards[0].pk) is not None
    assert shard_claim(shard_id=shards[0].pk) is None  # another worker has it


def test_cancel_stops_the_queued_shards(db: Any, project: Any, settings: Any) -> None:
    run = _planned(project, settings)
    first = EncodeShard.objects.filter(run=run).order_by("index").first()
    assert first is not None and shard_claim(shard_id=first.pk) is not None
    job_cancel(job=Job.objects.get(pk=run.job.pk))
    left = EncodeShard.objects.filter(run=run, status="queued").first()
    assert left is not None and shard_claim(shard_id=left.pk) is None  # the job asked to stop
    assert shards_cancel(run=run) == 2
    states = dict(EncodeShard.objects.filter(run=run).values_list("index", "status"))
    assert states == {0: "running", 1: "cancelled", 2: "cancelled"}


def test_a_stale_shard_is_queued_again_then_failed(db: Any, project: Any, settings: Any) -> None:
    run = _planned(project, settings, n_texts=3)
    shard = EncodeShard.objects.get(run=run)
    long_ago = timezone.now() - timedelta(seconds=settings.SCORING_SHARD_STALE_S + 1)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert shard_claim(shard_id=shard.pk) is not None
        assert shards_requeue_stale(run=run) == []  # beating: left alone
        EncodeShard.objects.filter(pk=shard.pk).update(heartbeat_at=long_ago)
        requeued = shards_requeue_stale(run=run)
        shard.refresh_from_db()
        if attempt < MAX_ATTEMPTS:
            assert requeued == [shard.pk] and shard.status == "queued"
    assert shard.status == "failed" and "stopped reporting 3 times" in shard.error
