"""The steps every run a job drives shares (scoring, checks, training): create the run with
its queued job, execute it on a worker, and the library versions it records.

A run's own service does the work (``<thing>_run_execute(*, run, progress, cancelled)``);
these helpers do what is the same for all of them.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction

import webapp
from webapp.jobs.models import Job, JobRun
from webapp.jobs.services import JobReporter, job_claim, job_create, job_fail, job_heartbeat
from webapp.projects.models import Project

R = TypeVar("R", bound=JobRun)


def run_create(
    model: type[R],
    *,
    job_kind: str,
    project: Project,
    params: dict[str, Any],
    config: dict[str, Any],
    created_by: Any = None,
    queue: str = "default",
    enqueue: bool = True,
    **fields: Any,
) -> R:
    """A queued run of ``model`` (with its own ``fields``) and its job of ``job_kind``, in one
    transaction; the job's task is sent once it commits (unless ``enqueue`` is false: a command
    that runs the job in its own process)."""
    with transaction.atomic():
        job = job_create(
            kind=job_kind,
            project=project,
            params=params,
            created_by=created_by,
            queue=queue,
            enqueue=enqueue,
        )
        return model._default_manager.create(
            project=project, job=job, config=config, created_by=created_by, **fields
        )


def run_execute(
    model: type[R], *, job_id: int, execute: Callable[..., Any]
) -> tuple[Job, R, Any] | None:
    """Claim the job, then execute the run row (of ``model``) it drives, beating all along:
    the job, the run and what ``execute`` returned. None when another worker has the job or
    the run failed (recorded on the job: a retry would fail the same way); an interrupt (a
    worker shutting down) is recorded and raised."""
    job = job_claim(job_id=job_id)
    if job is None:
        return None
    run = model._default_manager.select_related("project").get(job=job)
    reporter = JobReporter(job)
    try:
        with job_heartbeat(job=job):
            value = execute(run=run, progress=reporter, cancelled=reporter.cancelled)
    except BaseException as exc:
        job_fail(job=job, error=exc)
        if isinstance(exc, Exception):
            return None
        raise
    return job, run, value


def versions(*names: str) -> dict[str, str]:
    """PrefLab's version and those of the named libraries, as a run records them."""
    return {"preflab": webapp.__version__} | {n: importlib.metadata.version(n) for n in names}
