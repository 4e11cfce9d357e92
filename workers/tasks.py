"""Celery tasks: thin. Each takes a job id, claims the row, lets its stage do the work, then
takes the next step of webapp/pipeline.py and records the end.

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
    from webapp.jobs.services import JobReporter, job_claim, job_fail, job_heartbeat, job_succeed

    job = job_claim(job_id=job_id)
    if job is None:
        return
    batch = ImportBatch.objects.get(job=job)
    reporter = JobReporter(job)
    try:
        with job_heartbeat(job=job):
            import_run(batch=batch, progress=reporter)
    except BaseException as exc:
        job_fail(job=job, error=exc)
        raise
    result = {"import_batch": batch.pk, "status": batch.status, "url": f"/imports/{batch.pk}/"}
    if batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.REJECTED):
        job_succeed(job=job, result=result, message=batch.summary)
    else:
        job_fail(job=job, error=batch.error or "import failed")


@app.task(name="preflab.aggregate_votes", acks_late=True)
def aggregate_votes(job_id: int) -> None:
    from webapp.jobs.services import JobReporter, job_claim, job_fail, job_heartbeat, job_succeed
    from webapp.labelling.aggregation import votes_aggregate

    job = job_claim(job_id=job_id)
    if job is None or job.project is None:
        return
    try:
        with job_heartbeat(job=job):
            report = votes_aggregate(project=job.project, progress=JobReporter(job))
    except BaseException as exc:
        job_fail(job=job, error=exc)
        raise
    url = f"/projects/{job.project_id}/agreement/"
    alpha = "n/a" if report.alpha is None else f"{report.alpha:.3f}"
    job_succeed(
        job=job,
        result={"report": report.pk, "url": url},
        message=f"{report.n_votes} votes, alpha {alpha}",
    )


@app.task(name="preflab.score_pairs", acks_late=True)
def score_pairs(job_id: int) -> None:
    from webapp import pipeline
    from webapp.jobs.runs import run_execute
    from webapp.jobs.services import job_succeed
    from webapp.scoring.models import ScoringRun
    from webapp.scoring.services import scoring_run_execute

    done = run_execute(ScoringRun, job_id=job_id, execute=scoring_run_execute)
    if done is None:
        return
    job, run, _ = done
    pipeline.after_scoring(run=run)
    job_succeed(
        job=job,
        result={"scoring_run": run.pk, "url": f"/scoring/runs/{run.pk}/"},
        message=f"scored {run.n_pairs} pairs",
    )


@app.task(name="preflab.encode_shard", acks_late=True)
def encode_shard(shard_id: int) -> None:
    """One shard of a scoring run's texts (webapp/scoring/shards.py): claimed by id, so a
    message delivered twice, or a shard its coordinator took first, is a no-op."""
    from webapp.scoring.shards import shard_execute

    shard_execute(shard_id=shard_id)


@app.task(name="preflab.run_checks", acks_late=True)
def run_checks(job_id: int) -> None:
    from webapp import pipeline
    from webapp.checks.models import CheckRun
    from webapp.checks.services import check_run_execute
    from webapp.jobs.runs import run_execute
    from webapp.jobs.services import job_succeed

    done = run_execute(CheckRun, job_id=job_id, execute=check_run_execute)
    if done is None:
        return
    job, run, _ = done
    pipeline.after_checks(run=run)
    counts = run.summary.get("flag_counts", {})
    job_succeed(
        job=job,
        result={"check_run": run.pk, "url": f"/projects/{run.project_id}/checks/"},
        message=f"checks done: {sum(counts.values())} flags",
    )


@app.task(name="preflab.refit_noise", acks_late=True)
def refit_noise(job_id: int) -> None:
    from webapp import pipeline
    from webapp.jobs.runs import run_execute
    from webapp.jobs.services import job_succeed
    from webapp.review.learning import noise_fit_execute
    from webapp.review.models import NoiseFit

    done = run_execute(NoiseFit, job_id=job_id, execute=noise_fit_execute)
    if done is None:
        return
    job, run, _ = done
    pipeline.after_noise_fit(run=run)
    job_succeed(
        job=job,
        result={"noise_fit": run.pk, "url": f"/projects/{run.project_id}/review/"},
        message=f"noise model refitted on {run.n_answers} answers ({run.source})",
    )


@app.task(name="preflab.train_rm", acks_late=True)
def train_rm(job_id: int) -> None:
    from webapp.jobs.runs import run_execute
    from webapp.jobs.services import job_succeed
    from webapp.training.models import TrainingRun
    from webapp.training.services import training_run_execute

    done = run_execute(TrainingRun, job_id=job_id, execute=training_run_execute)
    if done is None:
        return
    job, run, _ = done
    accuracy = run.metrics.get("accuracy", float("nan"))
    job_succeed(
        job=job,
        result={"training_run": run.pk, "url": f"/training/runs/{run.pk}/"},
        message=f"held-out accuracy {accuracy:.3f}, model v{run.model.version}",
    )


@app.task(name="preflab.gpu.train_steps", acks_late=True)
def train_steps(job_id: int) -> None:
    """A steps project's step model fine-tune: named preflab.gpu.*, so the gpu queue's."""
    from webapp.jobs.runs import run_execute
    from webapp.jobs.services import job_succeed
    from webapp.training.models import TrainingRun
    from webapp.training.steps import step_training_execute

    done = run_execute(TrainingRun, job_id=job_id, execute=step_training_execute)
    if done is None:
        return
    job, run, _ = done
    accuracy = run.metrics.get("heldout_step_accuracy", float("nan"))
    job_succeed(
        job=job,
        result={"training_run": run.pk, "url": f"/training/runs/{run.pk}/"},
        message=f"held-out step accuracy {accuracy:.3f}, model v{run.model.version}",
    )


@app.task(name="preflab.judge_pairs", acks_late=True)
def judge_pairs(job_id: int) -> None:
    from webapp import pipeline
    from webapp.jobs.runs import run_execute
    from webapp.jobs.services import job_succeed
    from webapp.judges.models import JudgeRun
    from webapp.judges.services import judge_run_execute

    done = run_execute(JudgeRun, job_id=job_id, execute=judge_run_execute)
    if done is None:
        return
    job, run, _ = done
    pipeline.after_judges(project=run.project)
    job_succeed(
        job=job,
        result={"judge_run": run.pk, "url": f"/projects/{run.project_id}/judges/"},
        message=f"{run.judge.name} judged {run.n_pairs} pairs",
    )


@app.task(name="preflab.import_verdicts", acks_late=True)
def import_verdicts(job_id: int) -> None:
    from pathlib import Path

    from webapp import pipeline
    from webapp.jobs.services import JobReporter, job_claim, job_fail, job_heartbeat, job_succeed
    from webapp.judges.models import Judge
    from webapp.judges.services import verdicts_import

    job = job_claim(job_id=job_id)
    if job is None or job.project is None:
        return
    try:
        with job_heartbeat(job=job):
            judge = Judge.objects.select_related("project").get(pk=job.params["judge"])
            summary = verdicts_import(
                judge=judge,
                path=Path(job.params["path"]),
                file_name=job.params["file"],
                key_field=job.params.get("key_field", ""),
                progress=JobReporter(job),
            )
            pipeline.after_judges(project=job.project)
    except BaseException as exc:
        job_fail(job=job, error=exc)
        if isinstance(exc, Exception):
            return  # recorded on the job: a retry would fail the same way
        raise
    job_succeed(
        job=job,
        result=summary | {"url": f"/projects/{job.project_id}/judges/"},
        message=f"{summary['stored']} verdicts stored, {summary['rejected']} records rejected",
    )


@app.task(name="preflab.measure_judges", acks_late=True)
def measure_judges(job_id: int) -> None:
    from webapp import pipeline
    from webapp.jobs.services import job_claim, job_fail, job_heartbeat, job_succeed

    job = job_claim(job_id=job_id)
    if job is None or job.project is None:
        return
    try:
        with job_heartbeat(job=job):
            report = pipeline.after_judges(project=job.project)
    except BaseException as exc:
        job_fail(job=job, error=exc)
        if isinstance(exc, Exception):
            return
        raise
    job_succeed(
        job=job,
        result={"judge_report": report.pk, "url": f"/projects/{job.project_id}/judges/"},
        message=f"{len(report.data['judges'])} judges measured",
    )


@app.task(name="preflab.evaluate_rm", acks_late=True)
def evaluate_rm(job_id: int) -> None:
    from webapp.benchmarks.models import Evaluation
    from webapp.benchmarks.services import evaluation_execute
    from webapp.jobs.runs import run_execute
    from webapp.jobs.services import job_succeed

    done = run_execute(Evaluation, job_id=job_id, execute=evaluation_execute)
    if done is None:
        return
    job, run, _ = done
    job_succeed(
        job=job,
        result={"evaluation": run.pk, "url": f"/benchmarks/{run.benchmark_id}/"},
        message=f"{run.results.count()} contenders scored on {run.benchmark.name}",
    )


@app.task(name="preflab.export_dataset", acks_late=True)
def export_dataset(job_id: int) -> None:
    from webapp.exports.models import ExportSnapshot
    from webapp.exports.services import export_abandon, export_write
    from webapp.jobs.services import JobReporter, job_claim, job_fail, job_heartbeat, job_succeed

    job = job_claim(job_id=job_id)
    if job is None:
        export_abandon(job_id=job_id)
        return
    snapshot = ExportSnapshot.objects.select_related("project", "created_by").get(job=job)
    try:
        with job_heartbeat(job=job):
            export_write(snapshot=snapshot, progress=JobReporter(job))
    except BaseException as exc:
        job_fail(job=job, error=exc)
        if isinstance(exc, Exception):
            return  # recorded on the job and the snapshot; a retry would fail the same way
        raise
    job_succeed(
        job=job,
        result={"export": snapshot.pk, "url": f"/exports/{snapshot.pk}/"},
        message=f"{snapshot.row_count} pairs in export v{snapshot.version}",
    )


@app.task(name="preflab.reap_stale_jobs", ignore_result=True)
def reap_stale_jobs() -> int:
    from webapp import pipeline
    from webapp.jobs.services import jobs_reap_stale
    from webapp.scoring.shards import shards_requeue_stale

    reaped = jobs_reap_stale()
    pipeline.after_reaping(jobs=reaped)
    # shards of a live run whose worker died: queued again for any worker (the same rule)
    shards_requeue_stale()
    return len(reaped)
