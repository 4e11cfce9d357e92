"""Writes to Job rows: create and enqueue, claim, report progress, finish.

Every long job follows one path: ``job_create`` stores a queued row and enqueues its task
after commit; the task calls ``job_claim`` (exactly one worker wins), does its work while a
``JobReporter`` streams progress, and ends with ``job_succeed`` or ``job_fail``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from webapp.jobs.models import Job
from webapp.projects.models import Project
from webapp.realtime.events import JobProgress, job_group, publish

log = logging.getLogger("preflab.jobs")
T = TypeVar("T")

# A running job whose worker has not reported for this long is taken to be dead; a redelivered
# task may then claim it again and start over.
STALE_AFTER = timedelta(minutes=5)

# Each job kind's Celery task, by name, so the web side never imports worker code.
TASKS = {
    "import": "preflab.import_pairs",
    "score": "preflab.score_pairs",
    "aggregate_votes": "preflab.aggregate_votes",
    "export": "preflab.export_dataset",
    "train": "preflab.train_rm",
    "train_steps": "preflab.gpu.train_steps",  # preflab.gpu.*: routed to the gpu queue
    "checks": "preflab.run_checks",
    "noise": "preflab.refit_noise",
    "judge": "preflab.judge_pairs",
    "verdicts": "preflab.import_verdicts",
    "judges_measure": "preflab.measure_judges",
    "evaluate": "preflab.evaluate_rm",
}


class JobCancelled(Exception):
    """Raised inside a job when someone asked for it to stop."""


def job_create(
    *,
    kind: str,
    project: Project | None,
    params: dict[str, Any],
    created_by: Any = None,
    queue: str = "default",
    enqueue: bool = True,
) -> Job:
    """Store a queued job; its task is sent once the surrounding transaction commits."""
    job = Job.objects.create(
        kind=kind, project=project, params=params, created_by=created_by, queue=queue
    )
    if enqueue:
        transaction.on_commit(lambda: _send(job))
    return job


def _send(job: Job) -> None:
    """Hand the job to the broker. A broker that cannot be reached fails the job with a clear
    error (after Celery's own short retries), rather than leaving it queued forever."""
    from webapp.celery import app, ensure_broker

    try:
        ensure_broker()
        app.send_task(TASKS[job.kind], args=[job.pk], queue=job.queue)
    except Exception as exc:  # kombu's OperationalError, redis-py's errors, OSError...
        log.error("could not queue job %s", job.pk, exc_info=exc)
        failed = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.FAILED,
            error=f"could not queue the job: the task broker is unreachable ({exc}); "
            "start the job again",
            message="Failed",
            finished_at=timezone.now(),
        )
        if failed:
            job.refresh_from_db()
            _publish(job)


# How long a worker waits for a database that went away (restarting, failing over) before it
# gives up on claiming or failing a job. A job it could not fail is left to the reaper.
OUTAGE_WAIT_S = 60.0


def _despite_outage(write: Callable[[], T]) -> T:
    """Run ``write`` (its own transaction), again on a fresh connection while the database is
    briefly unreachable: a task that meets a restart still claims or fails its job cleanly."""
    deadline = time.monotonic() + OUTAGE_WAIT_S
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError):
            conn = connections[Job.objects.db]
            if conn.in_atomic_block or time.monotonic() > deadline:
                raise
            log.warning("database unreachable; trying again", exc_info=True)
            conn.close()  # a broken connection is never reused; the next try opens a new one
            time.sleep(1.0)


def job_claim(*, job_id: int) -> Job | None:
    """Move a queued (or abandoned) job to running. None: another worker has it, or it ended."""
    job = _despite_outage(lambda: _claim(job_id))
    if job is not None:
        _publish(job)
    return job


def _claim(job_id: int) -> Job | None:
    stale = timezone.now() - STALE_AFTER
    now = timezone.now()
    claimable = Q(status=Job.Status.QUEUED) | Q(status=Job.Status.RUNNING, heartbeat_at__lt=stale)
    with transaction.atomic():
        job = Job.objects.select_for_update(skip_locked=True).filter(claimable, pk=job_id).first()
        if job is None:
            return None
        if job.cancel_requested:
            job.status = Job.Status.CANCELLED
            job.finished_at = now
            job.save(update_fields=["status", "finished_at"])
            return None
        job.status = Job.Status.RUNNING
        job.started_at = now
        job.heartbeat_at = now
        job.attempts += 1
        job.progress_done = 0
        job.worker = f"{socket.gethostname()}:{os.getpid()}"
        job.save(
            update_fields=[
                "status", "started_at", "heartbeat_at", "attempts", "progress_done", "worker"
            ]
        )  # fmt: skip
    return job


def job_progress(*, job: Job, done: int, total: int | None = None, message: str = "") -> None:
    """Record progress. Raises JobCancelled when a cancel was asked for."""
    job.progress_done = done
    if total is not None:
        job.progress_total = total
    if message:
        job.message = message[:500]
    job.heartbeat_at = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        progress_done=job.progress_done,
        progress_total=job.progress_total,
        message=job.message,
        heartbeat_at=job.heartbeat_at,
    )
    _publish(job)
    if Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
        raise JobCancelled(f"job {job.pk} was cancelled")


def job_succeed(*, job: Job, result: dict[str, Any], message: str = "") -> None:
    job.status = Job.Status.SUCCEEDED
    job.result = result
    job.finished_at = timezone.now()
    if job.progress_total:
        job.progress_done = job.progress_total
    job.message = (message or "Done")[:500]
    job.save(update_fields=["status", "result", "finished_at", "progress_done", "message"])
    _publish(job)


def job_fail(*, job: Job, error: BaseException | str) -> None:
    """Mark the job failed (or cancelled). When the job failed because the database went away,
    this waits for it to come back (OUTAGE_WAIT_S), so the job ends failed, not running."""
    if isinstance(error, JobCancelled):
        job.status = Job.Status.CANCELLED
        job.message = "Cancelled"
    else:
        job.status = Job.Status.FAILED
        if isinstance(error, BaseException):
            job.error = "".join(traceback.format_exception_only(type(error), error)).strip()
            log.error("job %s failed", job.pk, exc_info=error)
        else:
            job.error = error
        job.message = "Failed"
    job.finished_at = timezone.now()
    _despite_outage(lambda: job.save(update_fields=["status", "error", "message", "finished_at"]))
    _publish(job)


def job_cancel(*, job: Job) -> None:
    """Ask a job to stop. A queued job stops at once; a running one at its next report."""
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    stopped = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.CANCELLED, finished_at=timezone.now(), message="Cancelled"
    )
    job.refresh_from_db()
    if stopped:
        _publish(job)


def jobs_reap_stale() -> list[Job]:
    """Fail running jobs whose worker stopped reporting (killed, or its machine went away).

    Their work is left as it was: every job kind writes its results in one final transaction,
    so a reaped job has either finished or left nothing that looks finished. Runs every
    minute on the worker's beat; returns the jobs it failed (webapp/pipeline.py fails what
    each of them left unfinished).
    """
    stale = timezone.now() - STALE_AFTER
    reaped: list[Job] = []
    for job in Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=stale):
        updated = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            status=Job.Status.FAILED,
            error=f"the worker ({job.worker}) stopped reporting; start the job again",
            message="Failed",
            finished_at=timezone.now(),
        )
        if updated:
            job.refresh_from_db()
            reaped.append(job)
            _publish(job)
    return reaped


def job_event(*, job: Job) -> JobProgress:
    result_url = str(job.result.get("url", "")) if isinstance(job.result, dict) else ""
    return JobProgress(
        job_id=job.pk,
        status=job.status,
        done=job.progress_done,
        total=job.progress_total,
        percent=round(job.percent, 1),
        message=job.message,
        error=job.error,
        result_url=result_url,
    )


def _publish(job: Job) -> None:
    publish(job_group(job.pk), job_event(job=job))


HEARTBEAT_EVERY_S = 60.0


@contextmanager
def beating(*, beat: Callable[[], None], every: float, name: str) -> Iterator[None]:
    """Call ``beat`` every ``every`` seconds from a side thread while the body runs (on the
    thread's own database connection, closed at the end): what keeps a job, or a part of
    one, from looking dead while one long step runs."""
    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.wait(every):
                beat()
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def job_heartbeat(*, job: Job) -> Iterator[None]:
    """Keep a running job's heartbeat fresh from a side thread while the body runs.

    Progress reports also beat, but one step of a long job (a fine-tune epoch, say) can take
    longer than STALE_AFTER; without this the reaper would fail a job that is alive.
    """

    def beat() -> None:
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())

    with beating(beat=beat, every=HEARTBEAT_EVERY_S, name=f"job-{job.pk}-heartbeat"):
        yield


class JobReporter:
    """A progress callback for long loops: throttled writes, cancel checks, optional terminal bar.

    Call it as ``reporter(done, total, message)``; it writes at most every ``interval`` seconds
    (and always for the last step), so a hot loop may call it for every batch.
    """

    def __init__(self, job: Job, *, interval: float = 0.5, terminal: bool = False) -> None:
        self.job = job
        self.interval = interval
        self._last = 0.0
        self._last_cancel_check = 0.0
        self._bar: Any = None
        if terminal:
            from tqdm import tqdm

            self._bar = tqdm(total=0, unit="B", unit_scale=True, dynamic_ncols=True)

    def __call__(self, done: int, total: int | None = None, message: str = "") -> None:
        if self._bar is not None:
            if total is not None:
                self._bar.total = total
            self._bar.n = done
            if message:
                self._bar.set_description_str(message[:40], refresh=False)
            self._bar.refresh()
        now = time.monotonic()
        final = total is not None and done >= total
        if now - self._last >= self.interval or final:
            self._last = now
            job_progress(job=self.job, done=done, total=total, message=message)

    def cancelled(self) -> bool:
        """A cheap cancel check for code that cannot raise through a progress call."""
        now = time.monotonic()
        if now - self._last_cancel_check < 1.0:
            return False
        self._last_cancel_check = now
        return Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
