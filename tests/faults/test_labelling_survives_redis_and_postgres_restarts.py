"""Annotators keep voting over HTTP while the broker and then the database go down and come
back. Afterwards every acknowledged vote is stored exactly once, nothing unacknowledged is
counted twice, the jobs started meanwhile ended (succeeded or failed, never stuck), and the
app serves again by itself.

The servers here are private (tests/faults/servers.py): the machine's own are shared.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests

from tests.conftest import ROOT, wait_for_port
from tests.faults.servers import Postgres, Redis, app_env, free_port, manage

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

ANNOTATORS = 6
PAIRS = 400

SETUP = """
import json
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from tests.labelling.helpers import make_pairs
from webapp.projects.models import Membership, Project

project = Project.objects.create(name="faults", votes_per_pair=2)
make_pairs(project, %(pairs)d)
users = get_user_model().objects
admin = users.create(username="boss")
Membership.objects.create(project=project, user=admin, role="admin")
tokens = []
for i in range(%(annotators)d):
    user = users.create(username=f"ann{i}")
    Membership.objects.create(project=project, user=user, role="annotator")
    tokens.append(Token.objects.create(user=user).key)
admin_key = Token.objects.create(user=admin).key
print(json.dumps({"project": project.pk, "tokens": tokens, "admin": admin_key}))
"""


@dataclass
class App:
    url: str
    project: int
    tokens: list[str]
    admin: str
    database_url: str
    pg: Postgres
    redis: Redis
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    pg, redis = Postgres(), Redis(tmp_path / "redis")
    pg.init()
    redis.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with psycopg.connect(pg.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE preflab")
        env = app_env(tmp_path / "home", pg.url("preflab"), redis.url)
        manage(env, "migrate", "--verbosity", "0", cwd=ROOT)
        setup = SETUP % {"pairs": PAIRS, "annotators": ANNOTATORS}
        out = manage(env, "shell", "-c", setup, cwd=ROOT)
        made = json.loads(out.strip().splitlines()[-1])
        port = free_port()
        web_env = {**env, "DATABASE_POOL": "1"}  # as `make run` serves
        logs = tmp_path / "logs"
        logs.mkdir()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "webapp.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "2", "--log-level", "warning"],
            cwd=ROOT, env=web_env, stdout=(logs / "web.log").open("wb"), stderr=subprocess.STDOUT,
        ))  # fmt: skip
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-Q", "default",
             "--pool", "solo", "--loglevel", "info", "-n", f"faults-{port}@%h"],
            cwd=ROOT, env=env, stdout=(logs / "worker.log").open("wb"), stderr=subprocess.STDOUT,
        ))  # fmt: skip
        wait_for_port(port)
        yield App(
            url=f"http://127.0.0.1:{port}",
            project=made["project"],
            tokens=made["tokens"],
            admin=made["admin"],
            database_url=pg.url("preflab"),
            pg=pg,
            redis=redis,
            procs=procs,
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        redis.stop()
        pg.stop()


@dataclass
class Load:
    """What the annotators saw: every acknowledged vote, every failure by kind."""

    acked: dict[str, tuple[str, int]] = field(default_factory=dict)  # lease token -> (user, vote)
    failures: collections.Counter[str] = field(default_factory=collections.Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures[what] += 1
        time.sleep(0.2)


def _annotate(app: App, key: str, load: Load) -> None:
    http = requests.Session()
    http.headers["Authorization"] = f"Token {key}"
    base = f"{app.url}/api/projects/{app.project}"
    while not load.stop.is_set():
        try:
            got = http.post(f"{base}/assignments/next/", timeout=15)
        except requests.RequestException as exc:
            load.fail(f"next: {type(exc).__name__}")
            continue
        if got.status_code == 204:
            return
        if got.status_code != 200:
            load.fail(f"next: HTTP {got.status_code}")
            continue
        lease = got.json()
        body = {"token": lease["token"], "round": lease["round"], "choice": "left", "strength": 0}
        while True:  # a client retries the same vote until it gets an answer: that is safe
            try:
                voted = http.post(f"{base}/votes/", json=body, timeout=15)
            except requests.RequestException as exc:
                load.fail(f"vote: {type(exc).__name__}")
                continue
            if voted.status_code in (200, 201):
                with load.lock:
                    assert lease["token"] not in load.acked or voted.status_code == 200
                    load.acked[lease["token"]] = (key, voted.json()["vote"])
                break
            load.fail(f"vote: HTTP {voted.status_code}")
            if voted.status_code < 500:
                break


def _export(app: App) -> int | None:
    """Start an export job; its id, or None when the request itself failed."""
    try:
        started = requests.post(
            f"{app.url}/api/projects/{app.project}/exports/",
            json={"file_format": "jsonl"},
            headers={"Authorization": f"Token {app.admin}"},
            timeout=15,
        )
    except requests.RequestException:
        return None
    return int(started.json()["job"]["id"]) if started.status_code == 202 else None


def _taken(app: App, job_id: int | None, timeout: float = 30) -> None:
    """Wait until a worker has taken the job. The test's Redis syncs its append-only file to
    disk once a second (appendfsync everysec), so a task message it took in the last second
    before a SIGKILL can be gone with it, and its job would stay queued; what this test
    checks is the jobs that a worker holds across the faults."""
    deadline = time.monotonic() + timeout
    while job_id is not None and time.monotonic() < deadline:
        with psycopg.connect(app.database_url) as db:
            row = db.execute("SELECT status FROM jobs_job WHERE id = %s", [job_id]).fetchone()
        if row and row[0] != "queued":
            return
        time.sleep(0.2)


def _healthy(app: App) -> bool:
    try:
        health = requests.get(f"{app.url}/health/?format=json", timeout=10)
    except requests.RequestException:
        return False
    return health.status_code == 200


def test_no_acknowledged_vote_is_lost_or_doubled_across_restarts(app: App) -> None:
    load = Load()
    threads = [
        threading.Thread(target=_annotate, args=(app, key, load), daemon=True) for key in app.tokens
    ]
    for thread in threads:
        thread.start()
    jobs: list[int | None] = []
    time.sleep(4)
    jobs.append(_export(app))
    _taken(app, jobs[-1])
    app.redis.kill()  # the broker and the channel layer go away...
    jobs.append(_export(app))  # ...while a job is started
    time.sleep(2)
    app.redis.start()
    time.sleep(4)
    jobs.append(_export(app))
    app.pg.crash()  # the database goes away, cutting every connection
    time.sleep(2)
    app.pg.start()
    time.sleep(6)
    load.stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    # serving again, with no one's help
    deadline = time.monotonic() + 60
    while not _healthy(app):
        assert time.monotonic() < deadline, "the app did not recover by itself"
        time.sleep(1)
    after = _export(app)
    assert after is not None, "a job cannot be started after the faults"
    jobs.append(after)

    with psycopg.connect(app.database_url) as db:
        stored = dict(
            db.execute(
                "SELECT a.token::text, v.id FROM labelling_vote v "
                "JOIN labelling_assignment a ON a.id = v.assignment_id "
                "WHERE a.project_id = %s",
                [app.project],
            ).fetchall()
        )
        doubled = db.execute(
            "SELECT count(*) FROM (SELECT pair_id, annotator_id FROM labelling_vote "
            "GROUP BY 1, 2 HAVING count(*) > 1) d"
        ).fetchone()
        over = db.execute(
            "SELECT count(*) FROM labelling_queueitem WHERE taken > wanted OR leases < 0"
        ).fetchone()
    assert load.acked, "no vote was acknowledged at all"
    lost = [t for t, (_, vote) in load.acked.items() if stored.get(t) != vote]
    assert not lost, f"{len(lost)} acknowledged votes are not stored as acknowledged"
    assert doubled == (0,) and over == (0,)
    # every vote stored belongs to a lease someone holds an answer for, or failed mid-answer
    unacked = set(stored) - set(load.acked)
    assert len(unacked) <= sum(load.failures.values())

    # every job ended, one way or the other, within a minute
    ids = [j for j in jobs if j is not None]
    assert len(ids) >= 3
    deadline = time.monotonic() + 90
    while True:
        with psycopg.connect(app.database_url) as db:
            states = dict(
                db.execute("SELECT id, status FROM jobs_job WHERE id = ANY(%s)", [ids]).fetchall()
            )
        if all(s in ("succeeded", "failed") for s in states.values()):
            break
        assert time.monotonic() < deadline, f"jobs did not end: {states}"
        time.sleep(1)
    assert states[after] == "succeeded"
    print(f"{len(load.acked)} votes acknowledged; failures: {dict(load.failures)}; jobs {states}")
