"""Shared fixtures: people, projects, and the real processes (ASGI server, Celery worker).

Nothing here imports Django models at import time, so tests/rm runs without Django too.

The processes run exactly as in production, as subprocesses on the test database, so tests
that use them need committed data: they use ``transactional_db``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_data(name: str, *, or_else: Path | None = None) -> Path:
    """The file ``name`` of the team's data folder, ../shared/data beside the checkout.

    Where it is missing, a test takes ``or_else`` if it has one, else is skipped; on CI (CI is
    "true"), which always has the folder, a missing file fails the test instead, so a test of
    real data cannot pass there by not running."""
    path = SHARED_DATA / name
    if path.exists():
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{path} is missing, and CI always has ../shared/data")
    if or_else is not None:
        return or_else
    pytest.skip(f"{path} is not here (the team's shared data folder)")


@pytest.fixture
def admin_user(db: Any) -> Any:
    from tests.factories import UserFactory

    return UserFactory(username="alice", is_staff=True, is_superuser=False)


@pytest.fixture
def project(admin_user: Any) -> Any:
    from tests.factories import MembershipFactory, ProjectFactory

    project = ProjectFactory(name="Test project")
    MembershipFactory(project=project, user=admin_user, role="admin")
    return project


@pytest.fixture
def admin_client(client: Any, admin_user: Any) -> Any:
    client.force_login(admin_user)
    return client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if settings.EMBEDDED_DATABASE:
        from webapp import embedded

        host = embedded.ensure_postgres(Path(settings.PREFLAB_HOME))
        return f"postgresql://{db['USER']}@/{db['NAME']}?host={host}"
    host = db.get("HOST") or "127.0.0.1"
    return f"postgresql://{db['USER']}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def process_env() -> dict[str, str]:
    """The environment for a subprocess that must see the test database and broker."""
    env = dict(os.environ)
    env["DATABASE_URL"] = _database_url()
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Processes:
    url: str
    web: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def start_worker(
    env: dict[str, str], log: Path, name: str = "test", queues: str = "default"
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-Q", queues,
         "--pool", "solo", "--loglevel", "info", "-n", f"{name}-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def wait_for_worker(timeout: float = 60) -> None:
    from webapp.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return
    raise TimeoutError("no Celery worker answered")


@pytest.fixture(scope="session")
def _redis_clean() -> None:
    import redis

    # only this run's keys: other runs on the same Redis keep theirs
    if settings.REDIS_URL and settings.REDIS_KEY_PREFIX:
        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}*", count=1000):
            client.delete(key)


@pytest.fixture(scope="session")
def live_app(
    django_db_setup: Any,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
    _redis_clean: None,
) -> Iterator[Processes]:
    """uvicorn (HTTP + WebSocket) and a Celery worker on the test database."""
    logs = tmp_path_factory.mktemp("logs")
    env = process_env()
    port = _free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "webapp.asgi:application",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=(logs / "web.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = start_worker(env, logs / "worker.log")  # the `default` queue only
    try:
        wait_for_port(port)
        wait_for_worker()
        yield Processes(url=f"http://127.0.0.1:{port}", web=web, worker=worker)
    finally:
        for proc in (web, worker):
            proc.terminate()
        for proc in (web, worker):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def celery_worker(live_app: Processes, transactional_db: Any) -> Processes:
    """A running Celery worker, with committed (transactional) database access for the test."""
    return live_app


def wait_until(predicate: Any, timeout: float = 60, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"condition not met after {timeout} s")


@contextmanager
def table_locked(table: str) -> Iterator[None]:
    """Another session holds ``table`` locked, so statements that read it wait."""
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield
        other.rollback()


# --- Real Chromium (Debian's) driven by Playwright, against the live ASGI server ----------------
# One browser for the whole session: two Playwright sync instances cannot run at once.
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: `make system-deps` installs it")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, which makes Django refuse ORM
    # calls from the test body (factories, asserts). The app under test runs in its own
    # processes, so relaxing the check here hides nothing of the app's.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@dataclass
class ConsoleErrors:
    """What the browser reported as an error on every page a test opened: console errors
    (a script's, or a request the server refused: a missing asset is a 404 there) and uncaught
    exceptions. A test that provokes one on purpose says so with ``expect(pattern)``."""

    seen: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        self.expected.append(pattern)

    def unexpected(self) -> list[str]:
        return [e for e in self.seen if not any(re.search(p, e) for p in self.expected)]


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.fixture
def page(browser: Any, live_app: Any, console_errors: ConsoleErrors) -> Iterator[Any]:
    """A Chromium page on the live server. The test fails on any console error or uncaught
    exception of any page it opened (the login page too), unless it expected it."""
    context = browser.new_context(base_url=live_app.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()

    def on_console(message: Any) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            console_errors.seen.append(f"{message.text} ({where} on {page.url})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: console_errors.seen.append(f"uncaught {exc} on {page.url}"))
    yield page
    context.close()
    unexpected = console_errors.unexpected()
    if unexpected:
        pytest.fail("the browser reported errors:\n" + "\n".join(unexpected), pytrace=False)


def _tiny_bert(folder: Path) -> Path:
    """A 2-layer, 32-wide BERT with one output (random weights) and MiniLM's tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from workers.rm.config import default_encoder_path

    tokenizer = AutoTokenizer.from_pretrained(str(default_encoder_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128, num_labels=1,
    )  # fmt: skip
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_base_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT as a base to fine-tune on CPU."""
    return _tiny_bert(tmp_path_factory.mktemp("tiny-base"))


@pytest.fixture(scope="session")
def tiny_reward_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT as a reward model to score with (a folder of its own)."""
    return _tiny_bert(tmp_path_factory.mktemp("tiny-rm"))
