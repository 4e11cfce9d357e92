"""What happens after each job, in one place. The Celery tasks (workers/tasks.py) claim a job,
let its stage do the work, then call the step here; no stage calls a later one itself.

Each stage writes its own results in its final transaction, sinks included: a scoring run its
scores and flags, a check run its flags, a training run its registered model
(webapp/registry). What a later stage does with them comes next:

    job              then
    ---------------  -----------------------------------------------------------------------
    import           nothing: the labelling queue gets the new pairs by trigger
    aggregate votes  nothing: the effective label reads the new human labels as they are
    scoring run      rebuild the review queue from the run's flags and scores; ask for more
                     human votes on the most ambiguous pairs, where the project wants them
    check run        rebuild the review queue, with the new checks flags
    training run     nothing: the model was registered as the run completed
    export           nothing
    stale-job reaper fail the import batches and export snapshots of the jobs it failed, and
                     remove the work folders killed exports left
"""

from __future__ import annotations

from webapp.checks.models import CheckRun
from webapp.exports.services import export_snapshots_fail, exports_reap
from webapp.imports.services import import_batches_fail
from webapp.jobs.models import Job
from webapp.review.ambiguity import ambiguity_votes_request
from webapp.review.queue import review_queue_rebuild
from webapp.scoring.models import ScoringRun


def after_scoring(*, run: ScoringRun) -> None:
    """The review queue and the ambiguity-driven votes follow the new run's flags and scores."""
    review_queue_rebuild(project=run.project, run_id=run.pk)
    ambiguity_votes_request(run_id=run.pk)


def after_checks(*, run: CheckRun) -> None:
    """The review queue shows every flag, the new checks flags included."""
    review_queue_rebuild(project=run.project)


def after_reaping(*, jobs: list[Job]) -> None:
    """The rows of their own that jobs whose worker died leave unfinished end failed with
    them; then the hidden folders of killed exports go."""
    for job in jobs:
        if job.kind == "import":
            import_batches_fail(job_id=job.pk, error=job.error)
        elif job.kind == "export":
            export_snapshots_fail(job_id=job.pk, error=job.error)
    exports_reap()
