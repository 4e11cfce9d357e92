"""Labelling load for the benchmarks: a project to label, annotators logged in, the web server,
simulated annotators over HTTP, and what they did.

``fill`` makes a project of many pairs with SQL (``INSERT ... SELECT generate_series``) over the
real HH-RLHF texts bundled for the demo (1000 pairs imported, then repeated with distinct keys,
so every page renders real prompts and responses through the markdown filter). ``serve`` runs
uvicorn on the bench database from a subprocess, as ``manage.py serve`` does, with the psycopg
connection pool on (DATABASE_POOL, see webapp/settings.py). ``run_load`` has annotators, each
on its own keep-alive connection (bench/client.py), work as the labelling page does
(static/js/label.js): they open with two pairs (the one on screen and one fetched ahead),
then each vote is one request, ``POST /label/vote/`` with ``prefetch=1``, whose answer is the
next pair for the buffer; their ``Tally`` holds every vote's latency and the tokens the server
acknowledged, which ``check`` holds against the database. ``CpuMeter`` measures what the
votes cost the web server, PostgreSQL and this process.

Used by bench_labelling and bench_soak; ``python -m bench`` runs only modules named bench_*.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.client import Connection, Tally, answer_timed, run_pages

WEB_WORKERS = int(os.environ.get("BENCH_LABELLING_WEB_WORKERS", 2))
ROOT = Path(__file__).resolve().parent.parent
DEMO_FILE = ROOT / "webapp" / "ops" / "demo" / "hh-rlhf-test-sample.jsonl.gz"
TOKEN = re.compile(rb'data-token="([0-9a-f-]{36})" data-round="(\d+)"')
CHOICES = ("left", "right", "tie", "both_bad")


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


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url() -> str:
    """The URL of the database Django is connected to, for the subprocesses to use."""
    from django.db import connection

    db = connection.settings_dict
    return (
        f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def serve(port: int) -> subprocess.Popen[bytes]:
    """uvicorn serving the app on ``port`` from WEB_WORKERS processes, once it answers."""
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url()
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


def stop_embedded_redis() -> None:
    """The web server started the embedded Redis of the bench's home (it needs a broker to
    start); being killed, it leaves the Redis running."""
    from django.conf import settings

    from webapp import embedded

    if settings.EMBEDDED_REDIS:
        embedded.stop_redis(embedded.redis_socket(Path(settings.PREFLAB_HOME)))


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
        answered = await answer_timed(conn.post(f"{base}/vote/", form), tally, token, "vote")
        if answered is None:
            continue
        body, t0, t1 = answered
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


async def run_load(
    port: int, project_id: int, cookies: list[str], seconds: float, think_s: float
) -> Tally:
    def page(conn: Connection, tally: Tally, window: tuple[float, float], i: int) -> Any:
        return annotate(conn, project_id, tally, window, i, think_s)

    return await run_pages(port, cookies, seconds, page)


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


def merge(*tallies: Tally) -> Tally:
    merged = Tally()
    for t in tallies:
        merged.stored |= t.stored
    return merged
