"""Worker processes of their own for the sharded-scoring tests: on a queue no other test's
worker listens to, with small shards and a short heartbeat, so that a run spreads over them
and a killed one is noticed in seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import process_env, start_worker, wait_until
from webapp.jobs.models import Job
from webapp.scoring.models import EncodeShard, PairScore, ScoringRun, StoredEmbedding
from webapp.scoring.services import ScoringOptions

QUEUE = f"shards-{os.getpid()}"
SHARD_TEXTS = 25
STALE_S = 3
# 64 tokens a text: the runs stay well inside the tests' time limit on a busy 2-core machine
OPTIONS = ScoringOptions(n_models=3, n_folds=3, epochs=2, max_length=64)


def use_shard_queue(settings: Any) -> None:
    """Runs created by this test go to the shard workers' queue (as their shards do)."""
    settings.SCORING_CPU_QUEUE = QUEUE
    settings.SCORING_SHARD_STALE_S = STALE_S


class ShardWorkers:
    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> subprocess.Popen[bytes]:
        env = process_env() | {
            "SCORING_CPU_QUEUE": QUEUE,
            "SCORING_SHARD_TEXTS": str(SHARD_TEXTS),
            "SCORING_SHARD_STALE_S": str(STALE_S),
            # two workers share this machine's cores, as they would in production
            "WORKERS_PER_HOST": "2",
        }
        log = self.logs / f"{name}.log"
        proc = start_worker(env, log, name=name, queues=QUEUE)
        wait_until(lambda: b" ready." in log.read_bytes(), timeout=60)
        self.procs[proc.pid] = proc
        return proc

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        self.procs.pop(pid).wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def shard_workers(logs: Path) -> Iterator[ShardWorkers]:
    workers = ShardWorkers(logs)
    try:
        yield workers
    finally:
        workers.stop()


def pid_of(worker: str) -> int:
    return int(worker.rsplit(":", 1)[1])


def finished(run: ScoringRun, timeout: float = 300) -> Job:
    assert run.job is not None
    job_id = run.job.pk
    wait_until(lambda: Job.objects.get(pk=job_id).is_finished, timeout=timeout)
    return Job.objects.get(pk=job_id)


def stored_scores(run: ScoringRun) -> list[tuple[int, str, float, float, list[float]]]:
    return list(
        PairScore.objects.filter(run=run)
        .order_by("pair_id")
        .values_list("pair_id", "label_scored", "mu", "sigma", "margins")
    )


def forget_embeddings() -> None:
    """An empty store, so the next run encodes every text again."""
    StoredEmbedding.objects.all().delete()


def shard_workers_of(run: ScoringRun) -> set[str]:
    return set(EncodeShard.objects.filter(run=run).values_list("worker", flat=True))


def wait_for_shard_on_other_worker(run: ScoringRun, coordinator: str) -> EncodeShard:
    """A shard of the run running on a worker that is not the run's coordinator."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        shard = (
            EncodeShard.objects.filter(run=run, status=EncodeShard.Status.RUNNING)
            .exclude(worker=coordinator)
            .first()
        )
        if shard is not None and shard.worker:
            return shard
        time.sleep(0.02)
    raise TimeoutError("no shard ran on the second worker")
