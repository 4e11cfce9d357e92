"""Labelling under load: simulated annotators over HTTP against the real ASGI server.

A project of 1M pairs is filled with SQL (``INSERT ... SELECT generate_series``) over the real
HH-RLHF texts bundled for the demo (1000 pairs imported, then repeated with distinct keys, so
every page renders real prompts and responses through the markdown filter). uvicorn serves
the app from a subprocess on the bench database, as ``manage.py serve`` does, with the psycopg
connection pool on (DATABASE_POOL, see webapp/settings.py). N annotators, each on its own
keep-alive connection of a small asyncio HTTP/1.1 client, work as the labelling page does
(static/js/label.js): they open with two pairs (the one on screen and one fetched ahead), then
each vote is one request, ``POST /label/vote/`` with ``prefetch=1``, whose answer is the next
pair for the buffer. Five runs, on the same server:

1. for BENCH_LABELLING_SECONDS without pauses: the server's capacity, far harder than people;
2. for BENCH_LABELLING_API_SECONDS (as long, by default) the same annotators label through
   the REST API without pauses (``api_*``, bench/load_api.py): each vote is two requests,
   ``assignments/next`` then ``votes`` (JSON, a token), with the same client;
3. for BENCH_LABELLING_PACED_SECONDS with about a second between votes (``paced_*``): what an
   annotator feels when the server is not saturated (people take several seconds a vote);
4. for BENCH_LABELLING_SECONDS without pauses, the same annotators on the ranking page of a
   project of BENCH_LABELLING_ITEMS items of four responses (``ranking_*``, bench/load_items.py):
   each answer is one request, ``POST /label/answer/``, which stores the ranking, derives its
   votes on the item's six pairs and brings the next item back. ``ranking_items_per_s`` and
   ``ranking_request_p95_ms`` stand beside run 1's ``votes_per_s`` and ``request_p95_ms``;
   ``ranking_p95_vs_pair_page`` is the ratio of the two p95s, steadier than either time, and
   ``ranking_cpu_server_ms_per_item`` stands beside ``cpu_server_ms_per_vote``;
5. for BENCH_LABELLING_SECONDS without pauses, the same annotators on the step page of a
   project of BENCH_LABELLING_STEP_ITEMS solutions of up to eight steps (``steps_*``,
   bench/load_items.py): each solution is two requests, ``POST /label/steps/answer/`` (JSON:
   a label per step, or the first error alone) and the page again for the next, as
   static/js/steps.js does. ``steps_items_per_s`` and ``steps_request_p95_ms`` (the two
   requests of an item) stand beside the pair page's figures, ``steps_page_p95_ms`` is the
   page alone, and ``steps_p95_vs_pair_page`` the ratio of the p95s.

Figures: latency p50 / p95 / p99 of a vote request (it carries the next pair back), votes per
second (for the API, ``api_vote_p95_ms`` is the vote request and ``api_next_p95_ms`` the
request for a pair), how busy the cores were, and CPU seconds per vote of the web server
processes, of the PostgreSQL backends serving them and of this load generator
(``cpu_*_ms_per_vote``): on a machine shared with other work the latency is noisy, the CPU a
vote costs much less so. Then
the checks that must be zero: votes acknowledged but not stored (lost), votes stored twice or
without an acknowledgement (duplicated), pairs with more votes and leases than they want
(over-assigned), and queue counters that disagree with the votes and leases (queue_drift).

Target, on 2 cores (web server, PostgreSQL and this load generator together): p95 under 50 ms
with 32 annotators. BENCH_LABELLING_PAIRS, BENCH_LABELLING_ANNOTATORS, BENCH_LABELLING_SECONDS,
BENCH_LABELLING_PACED_SECONDS and BENCH_LABELLING_WEB_WORKERS change the run. Filling 1M pairs
takes minutes: BENCH_LABELLING_KEEP_DB=1 keeps the filled database on the server (as
``preflab_bench_labelling_<pairs>``, before any vote) and later runs start from a copy of it.
The project, the web server and the simulated annotators are bench/load.py's (the soak's too).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

import psutil

from bench.db import BENCH_DB, bench_database, database_keep
from bench.load import (
    WEB_WORKERS,
    annotators_ensure,
    check,
    fill,
    free_port,
    merge,
    quantile,
    run_load,
    serve,
    sessions,
    stop_embedded_redis,
)
from bench.load_api import api_tokens, run_api_load
from bench.load_items import (
    check_items,
    fill_items,
    fill_steps,
    members_ensure,
    run_item_load,
    run_steps_load,
)

PAIRS = int(os.environ.get("BENCH_LABELLING_PAIRS", 1_000_000))
ANNOTATORS = int(os.environ.get("BENCH_LABELLING_ANNOTATORS", 32))
SECONDS = float(os.environ.get("BENCH_LABELLING_SECONDS", 45))
# A second, shorter run where each annotator pauses between votes (still far quicker than a
# person): the latency an annotator sees when the server is not saturated.
PACED_SECONDS = float(os.environ.get("BENCH_LABELLING_PACED_SECONDS", 20))
API_SECONDS = float(os.environ.get("BENCH_LABELLING_API_SECONDS", SECONDS))
ITEMS = int(os.environ.get("BENCH_LABELLING_ITEMS", 100_000))
STEP_ITEMS = int(os.environ.get("BENCH_LABELLING_STEP_ITEMS", 100_000))
THINK_S = 1.0
KEEP_DB = os.environ.get("BENCH_LABELLING_KEEP_DB", "").lower() in ("1", "true", "yes")

Figures = Callable[[str, float, str], None]


def _cpu(pids: set[int]) -> dict[int, float]:
    """CPU seconds (user + system) so far of each process that is still there."""
    seconds = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            seconds[pid] = times.user + times.system
    return seconds


def _backends() -> set[int]:
    """The PostgreSQL backends connected to the bench database, but this process's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [BENCH_DB],
        )
        return {int(row[0]) for row in cursor.fetchall()}


class CpuMeter:
    """CPU seconds spent between start() and stop() by the web server (uvicorn and its
    workers), the database backends serving it (on this machine), and this load generator.
    A backend that starts during the run counts from zero; one that ends in it is missed (the
    pool keeps its connections)."""

    def __init__(self, server: psutil.Process) -> None:
        self.server = server
        self.before: dict[str, dict[int, float]] = {}
        self.spent: dict[str, float] = {}

    def _groups(self) -> dict[str, dict[int, float]]:
        web = {self.server.pid}
        with contextlib.suppress(psutil.Error):
            web |= {p.pid for p in self.server.children(recursive=True)}
        return {
            "web": _cpu(web),
            "db": _cpu(_backends()),
            "client": _cpu({os.getpid()}),
        }

    def start(self) -> None:
        self.before = self._groups()

    def stop(self) -> None:
        after = self._groups()
        self.spent = {
            name: sum(t - self.before[name].get(pid, 0.0) for pid, t in times.items())
            for name, times in after.items()
        }


def run(figures: Figures) -> None:
    from webapp.projects.models import Project

    template = f"preflab_bench_labelling_{PAIRS}" if KEEP_DB else ""
    with bench_database(template=template) as kept:
        if kept:
            project_id = Project.objects.get(name="Labelling bench").pk
            print(f"labelling: {PAIRS} pairs copied from {template}", file=sys.stderr)
        else:
            project_id = fill(PAIRS)
        annotators_ensure(project_id, ANNOTATORS)
        ranking = Project.objects.filter(name="Ranking bench").first()
        ranking_id = ranking.pk if ranking else fill_items(ITEMS)
        members_ensure(ranking_id, ANNOTATORS)
        steps = Project.objects.filter(name="Steps bench").first()
        steps_id = steps.pk if steps else fill_steps(STEP_ITEMS)
        members_ensure(steps_id, ANNOTATORS)
        if template and not kept:
            database_keep(template)
        cookies = sessions(ANNOTATORS)
        tokens = api_tokens(ANNOTATORS)
        port = free_port()
        server = serve(port)
        try:
            print(
                f"labelling: {ANNOTATORS} annotators, {SECONDS:.0f} s without pauses, then "
                f"{PACED_SECONDS:.0f} s with ~{THINK_S:.0f} s between votes, on "
                f"{os.cpu_count()} cores with {WEB_WORKERS} web workers",
                file=sys.stderr,
            )
            meter = CpuMeter(psutil.Process(server.pid))
            meter.start()
            busy_before = psutil.cpu_times()
            tally = asyncio.run(run_load(port, project_id, cookies, SECONDS, 0.0))
            busy_after = psutil.cpu_times()
            meter.stop()
            api_meter = CpuMeter(psutil.Process(server.pid))
            api_meter.start()
            api = asyncio.run(run_api_load(port, project_id, tokens, API_SECONDS))
            api_meter.stop()
            paced = asyncio.run(run_load(port, project_id, cookies, PACED_SECONDS, THINK_S))
            ranking_meter = CpuMeter(psutil.Process(server.pid))
            ranking_meter.start()
            ranked = asyncio.run(run_item_load(port, ranking_id, cookies, SECONDS))
            ranking_meter.stop()
            steps_meter = CpuMeter(psutil.Process(server.pid))
            steps_meter.start()
            stepped = asyncio.run(run_steps_load(port, steps_id, cookies, SECONDS))
            steps_meter.stop()
        finally:
            server.terminate()
            server.wait(timeout=30)
            stop_embedded_redis()
        checks = check(project_id, merge(tally, api, paced))
        ranking_checks = check_items(ranking_id, ranked)
        steps_checks = check_items(steps_id, stepped)
    samples = [sample for t in (tally, api, paced, ranked, stepped) for sample in t.error_samples]
    for sample in samples[:5]:
        print(f"labelling: error: {sample}", file=sys.stderr)
    figures("annotators", ANNOTATORS, "")
    figures("pairs", PAIRS, "")
    figures("cores", os.cpu_count() or 0, "")
    figures("web_workers", WEB_WORKERS, "")
    # A vote request is the page's only request per vote: it brings the next pair back.
    figures("request_p50_ms", quantile(tally.vote_ms, 0.50), "ms")
    figures("request_p95_ms", quantile(tally.vote_ms, 0.95), "ms")
    figures("request_p99_ms", quantile(tally.vote_ms, 0.99), "ms")
    figures("votes_per_s", len(tally.vote_ms) / tally.seconds, "votes/s")
    # Everything shares the cores (web server, PostgreSQL, this load generator): how busy they
    # were, and what one vote cost each of them (over the whole run, warm-up included).
    figures("cpu_busy_percent", 100 * _busy_share(busy_before, busy_after), "%")
    votes = max(1, len(tally.stored))
    for name, seconds in meter.spent.items():
        figures(f"cpu_{name}_ms_per_vote", 1000 * seconds / votes, "ms")
    server_s = meter.spent["web"] + meter.spent["db"]
    figures("cpu_server_ms_per_vote", 1000 * server_s / votes, "ms")
    figures("cpu_all_ms_per_vote", 1000 * (server_s + meter.spent["client"]) / votes, "ms")
    # the API: a vote is two requests, the pair then the vote
    figures("api_vote_p50_ms", quantile(api.vote_ms, 0.50), "ms")
    figures("api_vote_p95_ms", quantile(api.vote_ms, 0.95), "ms")
    figures("api_next_p50_ms", quantile(api.next_ms, 0.50), "ms")
    figures("api_next_p95_ms", quantile(api.next_ms, 0.95), "ms")
    figures("api_votes_per_s", len(api.vote_ms) / api.seconds, "votes/s")
    api_votes = max(1, len(api.stored))
    api_server_s = api_meter.spent["web"] + api_meter.spent["db"]
    figures("api_cpu_server_ms_per_vote", 1000 * api_server_s / api_votes, "ms")
    figures("api_cpu_client_ms_per_vote", 1000 * api_meter.spent["client"] / api_votes, "ms")
    figures("paced_request_p50_ms", quantile(paced.vote_ms, 0.50), "ms")
    figures("paced_request_p95_ms", quantile(paced.vote_ms, 0.95), "ms")
    figures("paced_votes_per_s", len(paced.vote_ms) / paced.seconds, "votes/s")
    figures("ranking_items", ITEMS, "items")
    figures("ranking_request_p50_ms", quantile(ranked.vote_ms, 0.50), "ms")
    figures("ranking_request_p95_ms", quantile(ranked.vote_ms, 0.95), "ms")
    figures("ranking_items_per_s", len(ranked.vote_ms) / ranked.seconds, "items/s")
    answers = max(1, len(ranked.stored))
    ranking_server_s = ranking_meter.spent["web"] + ranking_meter.spent["db"]
    figures("ranking_cpu_server_ms_per_item", 1000 * ranking_server_s / answers, "ms")
    figures(
        "ranking_p95_vs_pair_page",
        quantile(ranked.vote_ms, 0.95) / quantile(tally.vote_ms, 0.95),
        "",
    )
    figures("steps_items", STEP_ITEMS, "items")
    figures("steps_request_p50_ms", quantile(stepped.vote_ms, 0.50), "ms")
    figures("steps_request_p95_ms", quantile(stepped.vote_ms, 0.95), "ms")
    figures("steps_page_p95_ms", quantile(stepped.next_ms, 0.95), "ms")
    figures("steps_items_per_s", len(stepped.vote_ms) / stepped.seconds, "items/s")
    step_answers = max(1, len(stepped.stored))
    steps_server_s = steps_meter.spent["web"] + steps_meter.spent["db"]
    figures("steps_cpu_server_ms_per_item", 1000 * steps_server_s / step_answers, "ms")
    figures(
        "steps_p95_vs_pair_page",
        quantile(stepped.vote_ms, 0.95) / quantile(tally.vote_ms, 0.95),
        "",
    )
    runs = (tally, api, paced, ranked, stepped)
    figures("errors", sum(t.errors for t in runs), "")
    for name, value in checks.items():
        figures(name, value, "")
    for name, value in ranking_checks.items():
        figures(f"ranking_{name}", value, "")
    for name, value in steps_checks.items():
        figures(f"steps_{name}", value, "")
    if any(checks.values()) or any(ranking_checks.values()) or any(steps_checks.values()):
        raise RuntimeError(
            f"votes went wrong under load: {checks}, ranking {ranking_checks}, steps {steps_checks}"
        )


def _busy_share(before: Any, after: Any) -> float:
    idle = (after.idle + after.iowait) - (before.idle + before.iowait)
    total = sum(after) - sum(before)
    return 1 - idle / total if total else float("nan")
