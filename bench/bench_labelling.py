"""Labelling under load: simulated annotators over HTTP against the real ASGI server.

A project of 1M pairs is filled with SQL (``INSERT ... SELECT generate_series``) over the real
HH-RLHF texts bundled for the demo (1000 pairs imported, then repeated with distinct keys, so
every page renders real prompts and responses through the markdown filter). uvicorn serves
the app from a subprocess on the bench database, as ``manage.py serve`` does, with the psycopg
connection pool on (DATABASE_POOL, see webapp/settings.py). N annotators, each on its own
keep-alive connection of a small asyncio HTTP/1.1 client, work as the labelling page does
(static/js/label.js): they open with two pairs (the one on screen and one fetched ahead), then
each vote is one request, ``POST /label/vote/`` with ``prefetch=1``, whose answer is the next
pair for the buffer. Two runs:

1. for BENCH_LABELLING_SECONDS without pauses: the server's capacity, far harder than people;
2. for BENCH_LABELLING_PACED_SECONDS with about a second between votes (``paced_*``): what an
   annotator feels when the server is not saturated (people take several seconds a vote).

Figures: latency p50 / p95 / p99 of a vote request (it carries the next pair back), votes per
second, how busy the cores were, and CPU seconds per vote of the web server processes, of the
PostgreSQL backends serving them and of this load generator (``cpu_*_ms_per_vote``): on a
machine shared with other work the latency is noisy, the CPU a vote costs much less so. Then
the checks that must be zero: votes acknowledged but not stored (lost), votes stored twice or
without an acknowledgement (duplicated), pairs with more votes and leases than they want
(over-assigned), and queue counters that disagree with the votes and leases (queue_drift).

Target, on 2 cores (web server, PostgreSQL and this load generator together): p95 under 50 ms
with 32 annotators. BENCH_LABELLING_PAIRS, BENCH_LABELLING_ANNOTATORS, BENCH_LABELLING_SECONDS,
BENCH_LABELLING_PACED_SECONDS and BENCH_LABELLING_WEB_WORKERS change the run. Filling 1M pairs
takes minutes: BENCH_LABELLING_KEEP_DB=1 keeps the filled database on the server (as
``preflab_bench_labelling_<pairs>``, before any vote) and later runs start from a copy of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.db import BENCH_DB, bench_database, database_keep

PAIRS = int(os.environ.get("BENCH_LABELLING_PAIRS", 1_000_000))
ANNOTATORS = int(os.environ.get("BENCH_LABELLING_ANNOTATORS", 32))
SECONDS = float(os.environ.get("BENCH_LABELLING_SECONDS", 45))
# A second, shorter run where each annotator pauses between votes (still far quicker than a
# person): the latency an annotator sees when the server is not saturated.
PACED_SECONDS = float(os.environ.get("BENCH_LABELLING_PACED_SECONDS", 20))
THINK_S = 1.0
WARMUP_S = 5.0
WEB_WORKERS = int(os.environ.get("BENCH_LABELLING_WEB_WORKERS", 2))
KEEP_DB = os.environ.get("BENCH_LABELLING_KEEP_DB", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parent.parent
DEMO_FILE = ROOT / "webapp" / "ops" / "demo" / "hh-rlhf-test-sample.jsonl.gz"
TOKEN = re.compile(rb'data-token="([0-9a-f-]{36})" data-round="(\d+)"')
CHOICES = ("left", "right", "tie", "both_bad")

Figures = Callable[[str, float, str], None]


def fill(pairs: int) -> int:
    """A project of ``pairs`` pairs over the demo's real texts; returns the project id."""
    from django.db import connection

    from webapp.imports.services import import_batch_create, import_run
    from webapp.projects.services import project_create

    source = project_create(name="Labelling bench source")
    batch = import_run(
        batch=import_batch_create(project=source, path=DEMO_FILE, file_name=DEMO_FILE.name)
    )
    project = project_create(name="Labelling bench", votes_per_pair=3)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO pairs_pair (project_id, prompt_id, response_a_id, response_b_id,
                imported_label, dedup_key, source_file, source_line, split, external_id,
                metadata, created_at)
            SELECT %(project)s, s.prompt_id, s.response_a_id, s.response_b_id, '',
                decode(md5('bench-' || i), 'hex'), 'bench', i, 'train', '', '{}', now()
            FROM generate_series(0, %(pairs)s - 1) AS i
            JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS n, prompt_id, response_a_id,
                    response_b_id
                  FROM pairs_pair WHERE project_id = %(source)s) s
              ON s.n = i %% %(distinct)s
            """,
            {
                "project": project.pk,
                "pairs": pairs,
                "source": source.pk,
                "distinct": batch.pairs_created,
            },
        )
        cursor.execute("VACUUM ANALYZE pairs_pair")
        cursor.execute("VACUUM ANALYZE labelling_queueitem")
    print(
        f"labelling: {pairs} pairs in {time.perf_counter() - started:.1f} s "
        f"(texts of {batch.pairs_created} real pairs)",
        file=sys.stderr,
    )
    return project.pk


def annotators_ensure(project_id: int, n: int) -> None:
    """n annotator members of the project (bench-annotator-0...), made where missing."""
    from django.contrib.auth import get_user_model

    from webapp.projects.models import Membership

    User = get_user_model()
    names = [f"bench-annotator-{i}" for i in range(n)]
    have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    users = User.objects.bulk_create(
        [User(username=name, password="!") for name in names if name not in have]
    )
    Membership.objects.bulk_create(
        [Membership(project_id=project_id, user=u, role=Membership.Role.ANNOTATOR) for u in users]
    )


def sessions(n: int) -> list[str]:
    """The first n bench annotators, each logged in; returns their session cookies."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    cookies = []
    for i in range(n):
        client = Client()
        client.force_login(get_user_model().objects.get(username=f"bench-annotator-{i}"))
        cookies.append(client.cookies["sessionid"].value)
    return cookies


def serve(port: int) -> subprocess.Popen[bytes]:
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env.setdefault("LOG_LEVEL", "WARNING")
    env.setdefault("DATABASE_POOL", "true")  # see webapp/settings.py: ASGI wants a pool
    cmd = [
        sys.executable, "-m", "uvicorn", "webapp.asgi:application", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(WEB_WORKERS), "--log-level", "warning",
        "--no-access-log",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("uvicorn did not start")


def _stop_embedded_redis() -> None:
    """The web server started the embedded Redis of the bench's home (it needs a broker to
    start); being killed, it leaves the Redis running."""
    from django.conf import settings

    from webapp import embedded

    if settings.EMBEDDED_REDIS:
        embedded.stop_redis(embedded.redis_socket(Path(settings.PREFLAB_HOME)))


@dataclass
class Tally:
    vote_ms: list[float] = field(default_factory=list)  # each vote request, the next pair back
    vote_at: list[float] = field(default_factory=list)  # when each of them ended (perf_counter)
    stored: set[str] = field(default_factory=set)  # tokens the server acknowledged as stored
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0
    error_samples: list[str] = field(default_factory=list)
    exhausted: int = 0


class Connection:
    """A keep-alive HTTP/1.1 connection that POSTs forms; enough HTTP for this benchmark."""

    def __init__(self, port: int, cookie: str, csrf: str) -> None:
        self.port, self.cookie, self.csrf = port, cookie, csrf
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        body = "&".join(f"{k}={v}" for k, v in form.items()).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Cookie: sessionid={self.cookie}; csrftoken={self.csrf}\r\n"
            f"X-CSRFToken: {self.csrf}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        else:  # chunked
            chunks = []
            while (size := int((await self.reader.readline()).strip(), 16)) > 0:
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            await self.reader.readline()
            payload = b"".join(chunks)
        return status, headers, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _held(body: bytes) -> tuple[str, str] | None:
    """The token and round of the pair in a fragment, if it holds one."""
    match = TOKEN.search(body)
    return (match.group(1).decode(), match.group(2).decode()) if match else None


async def annotate(
    conn: Connection,
    project_id: int,
    tally: Tally,
    window: tuple[float, float],
    seed: int,
    think_s: float,
) -> None:
    """One annotator, as the labelling page works: two pairs held, one request a vote."""
    rng = random.Random(seed)
    base = f"/projects/{project_id}/label"
    start, stop = window
    held: list[tuple[str, str]] = []  # the pair on screen, then the one fetched ahead
    for _ in range(8):  # the page opens with two pairs; a failed request is asked again
        if len(held) == 2:
            break
        status, _, body = await conn.post(f"{base}/next/", {})
        pair = _held(body) if status == 200 else None
        if pair is not None:
            held.append(pair)
        elif status == 200 and b"pair-done" in body:
            break
        else:
            tally.errors += 1
            tally.error_samples.append(f"next {status}: {body[:120]!r}")
    if think_s:
        await asyncio.sleep(rng.uniform(0, think_s))  # annotators do not move in step
    while held and (now := time.perf_counter()) < stop:
        record = now >= start
        token, round_ = held.pop(0)
        choice = rng.choice(CHOICES)
        form = {
            "token": token,
            "round": round_,
            "choice": choice,
            "strength": str(rng.randrange(3)) if choice in ("left", "right") else "",
            "time_ms": str(rng.randrange(2000, 30000)),
            "prefetch": "1",  # the buffer is empty once the next pair is on screen
        }
        t0 = time.perf_counter()
        status, headers, body = await conn.post(f"{base}/vote/", form)
        t1 = time.perf_counter()
        outcome = headers.get("x-vote-status", "")
        tally.statuses[outcome] = tally.statuses.get(outcome, 0) + 1
        if status != 200 or outcome != "stored":
            tally.errors += 1
            tally.error_samples.append(f"vote {status} {outcome}: {body[:120]!r}")
            continue
        tally.stored.add(token)
        pair = _held(body)
        if pair is not None:
            held.append(pair)
        elif b"pair-done" in body:
            tally.exhausted += 1
        if record:
            tally.vote_ms.append((t1 - t0) * 1000)
            tally.vote_at.append(t1)
        if think_s:
            await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))


async def load(
    port: int, project_id: int, cookies: list[str], seconds: float, think_s: float
) -> Tally:
    tally = Tally()
    conns = [Connection(port, c, secrets.token_hex(16)) for c in cookies]
    begin = time.perf_counter()
    window = (begin + WARMUP_S, begin + WARMUP_S + seconds)
    try:
        await asyncio.gather(
            *(annotate(c, project_id, tally, window, i, think_s) for i, c in enumerate(conns))
        )
    finally:
        for c in conns:
            c.close()
    tally.seconds = seconds
    return tally


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


def check(project_id: int, tally: Tally) -> dict[str, int]:
    """What the database holds against what the server acknowledged."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.token::text FROM labelling_vote v
            JOIN labelling_assignment a ON a.id = v.assignment_id
            WHERE a.project_id = %s
            """,
            [project_id],
        )
        in_db = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT count(*) FROM labelling_queueitem WHERE project_id = %s AND taken > wanted",
            [project_id],
        )
        (over,) = cursor.fetchone() or (0,)
        cursor.execute(
            """
            SELECT count(*) FROM labelling_queueitem q
            LEFT JOIN (SELECT pair_id, count(*) AS n FROM labelling_vote GROUP BY pair_id) v
              ON v.pair_id = q.pair_id
            LEFT JOIN (SELECT pair_id, count(*) AS n FROM labelling_assignment
                       WHERE state = 'leased' GROUP BY pair_id) a ON a.pair_id = q.pair_id
            WHERE q.project_id = %s
              AND (q.votes <> coalesce(v.n, 0) OR q.leases <> coalesce(a.n, 0))
            """,
            [project_id],
        )
        (drift,) = cursor.fetchone() or (0,)
    stored = set(in_db)
    return {
        "lost": len(tally.stored - stored),
        "duplicated": (len(in_db) - len(stored)) + len(stored - tally.stored),
        "over_assigned": int(over),
        "queue_drift": int(drift),
    }


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


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
        if template and not kept:
            database_keep(template)
        cookies = sessions(ANNOTATORS)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
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
            tally = asyncio.run(load(port, project_id, cookies, SECONDS, 0.0))
            busy_after = psutil.cpu_times()
            meter.stop()
            paced = asyncio.run(load(port, project_id, cookies, PACED_SECONDS, THINK_S))
        finally:
            server.terminate()
            server.wait(timeout=30)
            _stop_embedded_redis()
        checks = check(project_id, merge(tally, paced))
    for sample in (tally.error_samples + paced.error_samples)[:5]:
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
    figures("paced_request_p50_ms", quantile(paced.vote_ms, 0.50), "ms")
    figures("paced_request_p95_ms", quantile(paced.vote_ms, 0.95), "ms")
    figures("paced_votes_per_s", len(paced.vote_ms) / paced.seconds, "votes/s")
    figures("errors", tally.errors + paced.errors, "")
    for name, value in checks.items():
        figures(name, value, "")
    if any(checks.values()):
        raise RuntimeError(f"votes went wrong under load: {checks}")


def merge(*tallies: Tally) -> Tally:
    merged = Tally()
    for t in tallies:
        merged.stored |= t.stored
    return merged


def _busy_share(before: Any, after: Any) -> float:
    idle = (after.idle + after.iowait) - (before.idle + before.iowait)
    total = sum(after) - sum(before)
    return 1 - idle / total if total else float("nan")
