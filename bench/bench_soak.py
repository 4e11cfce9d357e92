"""Soak: a long labelling load, to see that nothing is lost and nothing grows.

The labelling benchmark's set-up (bench/load.py: a project over the demo's real texts,
annotators on keep-alive connections working as the page does, uvicorn on the bench database)
runs for BENCH_SOAK_SECONDS (10 minutes) with BENCH_SOAK_ANNOTATORS (32) annotators
voting back to back, beside a Celery worker with its beat, which is given a vote aggregation
job every minute so that it works the whole time too.

Figures: votes acknowledged against votes stored (``lost`` and ``duplicated`` must be zero),
errors, p95 latency of each minute (``p95_ms_minute_<n>``) and the ratio of the last minute's
to the first's, and the resident memory of the web server processes and of the worker at the
start, the middle and the end of the load, with their growth (``*_rss_growth_mb``). The
jobs' outcomes are counted too: every aggregation job must have succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from bench import load
from bench.client import WARMUP_S
from bench.db import bench_database

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", 600))
ANNOTATORS = int(os.environ.get("BENCH_SOAK_ANNOTATORS", 32))
PAIRS = int(os.environ.get("BENCH_SOAK_PAIRS", 200_000))
SAMPLE_S = 10.0
JOB_EVERY_S = 60.0

Figures = Callable[[str, float, str], None]


def rss_mb(proc: psutil.Process) -> float:
    """Resident memory of a process and its children, in MiB."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 2**20


def worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    from django.conf import settings

    # the beat keeps its schedule beside the bench's other state, not in the working tree
    schedule = Path(settings.PREFLAB_HOME) / "celerybeat-schedule-soak"
    cmd = [
        sys.executable, "-m", "celery", "-A", "webapp", "worker", "-Q", "default",
        "--concurrency", "1", "--beat", "--schedule", str(schedule), "--loglevel", "warning",
        "-n", "soak@%h",
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=load.ROOT, env=env)


class Watch(threading.Thread):
    """Samples memory and hands the worker a job every minute while the load runs."""

    def __init__(self, web: psutil.Process, celery: psutil.Process, project_id: int) -> None:
        super().__init__(daemon=True)
        self.web, self.celery, self.project_id = web, celery, project_id
        self.samples: list[tuple[float, float, float]] = []  # (time, web MiB, worker MiB)
        self.jobs: list[int] = []
        self.done = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from webapp.jobs.services import job_create
        from webapp.projects.models import Project

        project = Project.objects.get(pk=self.project_id)
        next_job = time.perf_counter()
        try:
            while not self.done.is_set():
                now = time.perf_counter()
                self.samples.append((now, rss_mb(self.web), rss_mb(self.celery)))
                if now >= next_job:
                    job = job_create(kind="aggregate_votes", project=project, params={})
                    self.jobs.append(job.pk)
                    next_job = now + JOB_EVERY_S
                self.done.wait(SAMPLE_S)
        finally:
            connection.close()


def run(figures: Figures) -> None:
    from django.db import connection
    from django.db.models import Count

    from webapp.jobs.models import Job

    with bench_database():
        project_id = load.fill(PAIRS)
        load.annotators_ensure(project_id, ANNOTATORS)
        cookies = load.sessions(ANNOTATORS)
        port = load.free_port()
        server = load.serve(port)
        env = dict(os.environ)
        env["DATABASE_URL"] = load.database_url()
        celery = worker(env)
        try:
            time.sleep(10)  # the worker connects and its beat starts
            print(
                f"soak: {ANNOTATORS} annotators for {SECONDS:.0f} s on {PAIRS} pairs, "
                f"{load.WEB_WORKERS} web workers and a Celery worker",
                file=sys.stderr,
            )
            watch = Watch(psutil.Process(server.pid), psutil.Process(celery.pid), project_id)
            watch.start()
            began = time.perf_counter() + WARMUP_S
            tally = asyncio.run(load.run_load(port, project_id, cookies, SECONDS, 0.0))
            watch.done.set()
            watch.join(timeout=30)
            deadline = time.monotonic() + 120  # the last job gets time to finish
            while (
                Job.objects.filter(pk__in=watch.jobs)
                .exclude(status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED])
                .exists()
                and time.monotonic() < deadline
            ):
                time.sleep(1)
            jobs = dict(
                Job.objects.filter(pk__in=watch.jobs).values_list("status").annotate(n=Count("id"))
            )
        finally:
            for proc in (server, celery):
                proc.terminate()
            for proc in (server, celery):
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            load.stop_embedded_redis()
        checks = load.check(project_id, tally)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM labelling_vote v JOIN pairs_pair p ON p.id = v.pair_id "
                "WHERE p.project_id = %s",
                [project_id],
            )
            (stored,) = cursor.fetchone() or (0,)
    for sample in tally.error_samples[:5]:
        print(f"soak: error: {sample}", file=sys.stderr)
    figures("seconds", SECONDS, "s")
    figures("annotators", ANNOTATORS, "")
    figures("acknowledged", len(tally.stored), "votes")
    figures("stored", stored, "votes")
    figures("errors", tally.errors, "")
    for name, value in checks.items():
        figures(name, value, "")
    minutes = max(1, int(SECONDS // 60))
    p95s = []
    for m in range(minutes):
        window = [
            ms
            for ms, at in zip(tally.vote_ms, tally.vote_at, strict=True)
            if began + 60 * m <= at < began + 60 * (m + 1)
        ]
        p95s.append(load.quantile(window, 0.95))
        figures(f"p95_ms_minute_{m + 1}", p95s[-1], "ms")
    figures("p95_last_over_first", p95s[-1] / p95s[0] if p95s[0] else float("nan"), "")
    figures("votes_per_s", len(tally.vote_ms) / SECONDS, "votes/s")
    if len(watch.samples) >= 2:
        # the middle sample tells growth that levels off (warm caches, pools, imports) from a
        # leak, which keeps on between the middle and the end
        first, middle, last = (watch.samples[i] for i in (0, len(watch.samples) // 2, -1))
        figures("web_rss_start_mb", first[1], "MiB")
        figures("web_rss_middle_mb", middle[1], "MiB")
        figures("web_rss_end_mb", last[1], "MiB")
        figures("web_rss_growth_mb", last[1] - first[1], "MiB")
        figures("worker_rss_start_mb", first[2], "MiB")
        figures("worker_rss_middle_mb", middle[2], "MiB")
        figures("worker_rss_end_mb", last[2], "MiB")
        figures("worker_rss_growth_mb", last[2] - first[2], "MiB")
    figures("jobs_started", len(watch.jobs), "")
    figures("jobs_succeeded", jobs.get(Job.Status.SUCCEEDED, 0), "")
    if any(checks.values()) or stored != len(tally.stored):
        raise RuntimeError(f"votes went wrong in the soak: {checks}, {stored} stored")
