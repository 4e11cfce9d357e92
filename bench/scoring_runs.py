"""What the scoring-scale benchmarks share: real HH-RLHF pairs imported into a project of the
bench database, and scoring runs on it, in this process or on Celery worker processes."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def hh_records(n: int) -> list[dict[str, str]]:
    from bench.real_pairs import DATA

    records: list[dict[str, str]] = []
    for split in ("helpful-base", "harmless-base"):
        with gzip.open(DATA / "hh-rlhf" / f"{split}_test.jsonl.gz", "rt", encoding="utf-8") as fh:
            records.extend(json.loads(line) for line in fh)
    records = [r for r in records if r["chosen"] != r["rejected"]]
    if n <= len(records):
        return records[:n]
    # numbered copies: "\n\nHuman: (copy k) ..." makes every text new, the work per text real
    out = list(records)
    k = 1
    while len(out) < n:
        for r in records[: n - len(out)]:
            out.append({side: r[side].replace("Human:", f"Human: (copy {k})", 1)
                        for side in ("chosen", "rejected")})  # fmt: skip
        k += 1
    return out


def project_with(records: Sequence[dict[str, str]], name: str) -> Any:
    from webapp.imports.services import import_batch_create, import_run
    from webapp.projects.models import Project

    project = Project.objects.create(name=name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pairs.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        batch = import_batch_create(project=project, path=path, file_name=path.name)
        import_run(batch=batch)
    return project


def score_in_process(project: Any, options: Any) -> tuple[Any, float]:
    """One run from its creation to its stored scores, this process its coordinator."""
    from webapp.jobs.models import Job
    from webapp.scoring.services import scoring_run_create
    from workers.tasks import score_pairs

    started = time.perf_counter()
    run = scoring_run_create(project=project, options=options)
    assert run.job_id is not None
    score_pairs(run.job_id)
    seconds = time.perf_counter() - started
    job = Job.objects.get(pk=run.job_id)
    if job.status != Job.Status.SUCCEEDED:
        raise RuntimeError(f"scoring failed: {job.error}")
    run.refresh_from_db()
    return run, seconds


def texts_of(project: Any, options: Any) -> list[str]:
    from webapp.scoring.selectors import labelled_pairs
    from workers.rm import EnsembleConfig, pair_texts

    pairs = labelled_pairs(project=project)
    return pair_texts(
        prompts=pairs.prompts,
        chosen=pairs.chosen,
        rejected=pairs.rejected,
        features=EnsembleConfig().features,
    )


def workers_env(n: int) -> dict[str, str]:
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgresql://{db['USER']}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env["WORKERS_PER_HOST"] = str(n)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def celery_run(project: Any, options: Any, n_workers: int, logs: Path) -> float:
    """Seconds from run creation to the job's end with n worker processes."""
    from webapp.jobs.models import Job
    from webapp.scoring.models import StoredEmbedding
    from webapp.scoring.services import scoring_run_create

    StoredEmbedding.objects.all().delete()
    procs = []
    for i in range(n_workers):
        log = logs / f"worker-{n_workers}-{i}.log"
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-Q", "default",
             "--pool", "solo", "--loglevel", "info", "-n", f"bench-{n_workers}-{i}@%h"],
            cwd=ROOT, env=workers_env(n_workers), stdout=log.open("wb"), stderr=subprocess.STDOUT,
        ))  # fmt: skip
        deadline = time.monotonic() + 90
        while b" ready." not in log.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.2)
    try:
        started = time.perf_counter()
        run = scoring_run_create(project=project, options=options)
        assert run.job_id is not None
        while not Job.objects.get(pk=run.job_id).is_finished:
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        job = Job.objects.get(pk=run.job_id)
        if job.status != Job.Status.SUCCEEDED:
            raise RuntimeError(f"scoring failed: {job.error}")
        return seconds
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
