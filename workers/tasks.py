"""Celery tasks: thin. Each takes a job id, claims the row, calls a service, records the end.

A task whose claim fails returns at once: another worker has the job, or it already ended.
With acks_late, a worker that dies mid-job leaves its message unacknowledged; Redis hands it
out again after the visibility timeout, and the claim succeeds once the job's heartbeat is
stale (see webapp/jobs/services.py).
"""

from __future__ import annotations

import logging

from webapp.celery import app

log = logging.getLogger("preflab.tasks")


@app.task(name="preflab.import_pairs", acks_late=True)
def import_pairs(job_id: int) -> None:
    from webapp.imports.models import ImportBatch
    from webapp.imports.services import import_run
    from webapp.jobs.services import JobReporter, job_claim, job_fail, job_succeed

    job = job_claim(job_id=job_id)
    if job is None:
        return
    batch = ImportBatch.objects.get(job=job)
    reporter = JobReporter(job)
    try:
        import_run(batch=batch, progress=reporter)
    except BaseException as exc:
        job_fail(job=job, error=exc)
        raise
    result = {"import_batch": batch.pk, "status": batch.status, "url": f"/imports/{batch.pk}/"}
    if batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.REJECTED):
        job_succeed(job=job, result=result, message=batch.summary)
    else:
        job_fail(job=job, error=batch.error or "import failed")
