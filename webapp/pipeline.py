"""What happens after each job, in one place. The Celery tasks (workers/tasks.py) claim a job,
let its stage do the work, then call the step here; no stage calls a later one itself.

Each stage writes its own results in its final transaction, sinks included: a scoring run its
scores and flags, a check run its flags, a training run its registered model
(webapp/registry). What a later stage does with them comes next:

    job              then
    ---------------  -----------------------------------------------------------------------
    import           nothing: the labelling queue gets the new pairs by trigger
    aggregate votes  nothing: the effective label reads the new human labels as they are
    scoring run      a rating project: fit the per-attribute heads and raise the rating flags
                     (webapp/scoring/attributes.py; pairwise per attribute: flag answers whose
                     overall choice contradicts their attribute choices); then fit the
                     noise model on the run (P(wrong) per pair, from the answers so far),
                     rebuild the review queue from the run's flags in its order; ask for more
                     human votes on the most ambiguous pairs, where the project wants them
                     (a steps project's run: one more answer on each solution flagged for its
                     first error or its final answer)
    check run        refit the noise model (check results are among its features), rebuild
                     the review queue with the new checks flags
    review decisions a refit, as a job, once ``refit_every`` decisions came in since the last
                     (started when a decision commits: webapp/review/decisions.py)
    noise model fit  rebuild the review queue in the new P(wrong) order
    judge run        measure every judge against people (the judges page's report, and a
                     flag on each pair where every judge disagrees with the human label);
                     rebuild the review queue with those flags
    verdict import   the same
    benchmark eval   nothing: the leaderboard reads the results as they are
    training run     nothing: the model was registered as the run completed
    export           nothing
    stale-job reaper fail the import batches and export snapshots of the jobs it failed, cancel
                     the encoding shards of scoring jobs it failed, and remove the work
                     folders killed exports left
"""

from __future__ import annotations

from webapp.checks.models import CheckRun
from webapp.exports.services import export_snapshots_fail, exports_reap
from webapp.imports.services import import_batches_fail
from webapp.jobs.models import Job
from webapp.jobs.services import JobReporter
from webapp.judges.models import JudgeReport
from webapp.judges.report import judges_measure
from webapp.labelling.queue import answers_wanted_raise
from webapp.projects.models import Project
from webapp.review.ambiguity import ambiguity_votes_request
from webapp.review.learning import noise_fit_create, noise_fit_execute
from webapp.review.models import NoiseFit
from webapp.review.queue import review_queue_rebuild
from webapp.scoring.attributes import answer_contradictions_flag, attribute_scores_fit
from webapp.scoring.models import ScoringRun
from webapp.scoring.selectors import step_flags_to_relabel
from webapp.scoring.shards import shards_abandon


def _refit_in_process(project: Project) -> None:
    fit = noise_fit_create(project=project, job=False)
    noise_fit_execute(run=fit, progress=lambda *args: None)


def after_scoring(*, run: ScoringRun) -> None:
    """A rating project's attribute heads add their flags to the run's; then the noise model,
    the review queue and the ambiguity-driven votes follow the new run's flags and scores; a
    steps run's flagged solutions are asked for more answers instead."""
    if run.project.label_scheme == Project.LabelScheme.STEPS:
        after_step_scoring(run=run)
        return
    if run.project.label_scheme == Project.LabelScheme.RATING:
        # still the run's job: its page shows the heads' progress until the job succeeds
        attribute_scores_fit(run=run, progress=JobReporter(run.job) if run.job else None)
    elif run.project.label_scheme == Project.LabelScheme.PAIRWISE_ATTRIBUTES:
        answer_contradictions_flag(run=run)
    _refit_in_process(run.project)
    review_queue_rebuild(project=run.project, run_id=run.pk)
    ambiguity_votes_request(run_id=run.pk)


def after_step_scoring(*, run: ScoringRun) -> None:
    """Each solution the step run flagged for a human first error far from the model's, or
    for labels against its final answer, wants one more human answer (once per run); the
    review page lists every flag of the run as it is."""
    flagged = step_flags_to_relabel(run_id=run.pk)
    answers_wanted_raise(project=run.project, item_ids=flagged, extra=1)


def after_checks(*, run: CheckRun) -> None:
    """The noise model reads the new check results; the queue shows every flag."""
    _refit_in_process(run.project)
    review_queue_rebuild(project=run.project)


def after_noise_fit(*, run: NoiseFit) -> None:
    """The queue takes the new order (and the pairs the fit flagged)."""
    review_queue_rebuild(project=run.project, run_id=run.scoring_run_id)


def after_judges(*, project: Project) -> JudgeReport:
    """New verdicts: the judges are measured again, and their flags join the review queue."""
    report = judges_measure(project=project)
    review_queue_rebuild(project=project)
    return report


def after_reaping(*, jobs: list[Job]) -> None:
    """The rows of their own that jobs whose worker died leave unfinished end failed with
    them; then the hidden folders of killed exports go."""
    for job in jobs:
        if job.kind == "import":
            import_batches_fail(job_id=job.pk, error=job.error)
        elif job.kind == "export":
            export_snapshots_fail(job_id=job.pk, error=job.error)
        elif job.kind == "score":
            shards_abandon(job_id=job.pk)
    exports_reap()
