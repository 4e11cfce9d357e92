"""A worker killed (SIGKILL) in the middle of an import or an export leaves a job that ends
failed, with its import batch or export snapshot, never half a result that looks complete:
the import's committed chunks are kept and a retry adds exactly the rest; the export's
snapshot never appears, and a new one is whole."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Q

from tests.conftest import process_env, start_worker, table_locked, wait_until
from webapp.celery import app
from webapp.exports.models import ExportSnapshot
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write
from webapp.imports.models import ImportBatch
from webapp.imports.services import import_batch_create, import_run
from webapp.jobs import services as job_services
from webapp.jobs.models import Job
from webapp.jobs.services import TASKS, job_create
from webapp.pairs.models import Pair
from workers.tasks import reap_stale_jobs

pytestmark = pytest.mark.slow

N = 100_000  # five import chunks; the worker is killed after the first is committed
PAST_A_CHUNK = Q(progress_done__gt=0)


def _kill_when_under_way(job: Job, queue: str, log: Path, *, under_way: Q = PAST_A_CHUNK) -> None:
    """Start a worker on a queue of its own, send it the job, kill it once it is running and
    its progress matches ``under_way``."""
    worker = start_worker(process_env(), log, name=queue, queues=queue)
    try:
        app.send_task(TASKS[job.kind], args=[job.pk], queue=queue)
        wait_until(
            lambda: Job.objects.filter(under_way, pk=job.pk, status="running").exists(),
            timeout=120,
            interval=0.05,
        )
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING  # nobody left to say otherwise


def _reap(monkeypatch: Any, job: Job) -> None:
    monkeypatch.setattr(job_services, "STALE_AFTER", timedelta(seconds=0))
    assert reap_stale_jobs() == 1  # the beat's task: the reaper, then what follows it
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "stopped reporting" in job.error
    assert job_services.job_claim(job_id=job.pk) is None  # a redelivered task cannot take it


def test_killed_import_and_export_jobs_fail_and_a_retry_completes_them(
    celery_worker: Any, project: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    path = tmp_path / "many.jsonl"
    with path.open("w") as fh:
        for i in range(N):
            fh.write(f'{{"prompt":"p{i}","chosen":"a","rejected":"b"}}\n')
    queue = f"killed-{os.getpid()}"
    with transaction.atomic():
        job = job_create(kind="import", project=project, params={}, queue=queue, enqueue=False)
        batch = import_batch_create(project=project, path=path, file_name=path.name, job=job)
    _kill_when_under_way(job, queue, tmp_path / "import-worker.log")
    _reap(monkeypatch, job)
    kept = Pair.objects.filter(project=project).count()
    assert 0 < kept < N  # whole chunks committed before the kill, not the rest
    assert kept % 20_000 == 0
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and "stopped reporting" in batch.error
    again = import_run(batch=import_batch_create(project=project, path=path, file_name=path.name))
    assert again.status == ImportBatch.Status.DONE
    assert (again.pairs_created, again.pairs_existing) == (N - kept, kept)
    assert Pair.objects.filter(project=project).count() == N

    snapshot = export_create(project=project, file_format="jsonl", spec=ExportSpec(), enqueue=False)
    assert snapshot.job is not None
    Job.objects.filter(pk=snapshot.job.pk).update(queue=queue)
    # 100k short rows export in well under a second: the export counts its rows (and says how
    # many), then waits at its first COPY, which reads the responses, until the kill.
    with table_locked("pairs_response"):
        _kill_when_under_way(
            snapshot.job, queue, tmp_path / "export-worker.log", under_way=Q(progress_total=N)
        )
    _reap(monkeypatch, snapshot.job)
    snapshot.refresh_from_db()
    assert snapshot.status == ExportSnapshot.Status.FAILED and not snapshot.files
    assert "stopped reporting" in snapshot.error
    assert not snapshot.path.exists()  # no folder that could pass for a finished export
    fresh = export_write(
        snapshot=export_create(
            project=project, file_format="jsonl", spec=ExportSpec(), enqueue=False
        )
    )
    assert fresh.status == ExportSnapshot.Status.READY and fresh.row_count == N
