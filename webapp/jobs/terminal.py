"""Following a job from a management command: a progress bar in the terminal until it ends."""

from __future__ import annotations

import time

from django.core.management.base import CommandError

from webapp.jobs.models import Job


def job_wait(*, job_id: int, poll_s: float = 0.5) -> Job:
    """Show the job's progress as a tqdm bar until it finishes; CommandError unless it
    succeeded, so a command's exit status says how the job ended."""
    from tqdm import tqdm

    bar = tqdm(total=1, dynamic_ncols=True)
    try:
        while True:
            job = Job.objects.get(pk=job_id)
            bar.total = max(job.progress_total, 1)
            bar.n = min(job.progress_done, bar.total)
            bar.set_description_str(f"{job.status}: {job.message}"[:50], refresh=False)
            bar.refresh()
            if job.is_finished:
                break
            time.sleep(poll_s)
    finally:
        bar.close()
    if job.status != Job.Status.SUCCEEDED:
        raise CommandError(f"job {job.pk} {job.status}: {job.error}")
    return job
