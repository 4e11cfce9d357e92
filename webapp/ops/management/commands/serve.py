"""python manage.py serve: migrate, set up, then run the web server and a Celery worker.

This is what `make run` calls. Ctrl-C (or SIGTERM) stops every process it started; on the
embedded default the embedded PostgreSQL and Redis stop with the last process that uses them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from webapp import embedded
from webapp.celery import ensure_broker
from webapp.ops.services import admin_ensure, demo_load


class Command(BaseCommand):
    help = "Run PrefLab: ASGI web server (HTTP + WebSocket) and a Celery worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--demo", action="store_true", help="Load the demo project.")
        # Django runs sync views of one ASGI process on one thread, so a process serves one
        # request at a time: several processes keep the cores busy while others wait on I/O.
        parser.add_argument(
            "--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", 0)) or None
        )
        parser.add_argument("--concurrency", type=int, default=1, help="Celery processes.")
        parser.add_argument("--no-worker", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        ensure_broker()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database is migrated.")
        username, password = admin_ensure()
        if password:
            self.stdout.write(self.style.WARNING(
                f"Created the admin account: user {username!r}, password {password!r}. "
                "It is shown once; change it with `manage.py changepassword`."
            ))  # fmt: skip
        if opts["demo"]:
            project = demo_load(admin_username=username)
            self.stdout.write(f"Demo project {project.name!r}: {project.pairs.count()} pairs.")
        self._run(opts)

    def _run(self, opts: dict[str, Any]) -> None:
        python = sys.executable
        procs: list[subprocess.Popen[bytes]] = []
        web = [
            python, "-m", "uvicorn", "webapp.asgi:application",
            "--host", opts["host"], "--port", str(opts["port"]),
            "--workers", str(opts["web_workers"] or min(8, 2 * (os.cpu_count() or 1) + 1)),
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        # Under ASGI each request may run on another thread, so Django's persistent connections
        # are not reused; the web server takes a psycopg pool instead (DATABASE_POOL=0 opts out).
        web_env = {"DATABASE_POOL": "1", **os.environ}
        procs.append(subprocess.Popen(web, cwd=settings.BASE_DIR, env=web_env))
        if not opts["no_worker"]:
            worker = [
                python, "-m", "celery", "-A", "webapp", "worker",
                "-Q", "default,gpu", "--concurrency", str(opts["concurrency"]),
                "--loglevel", "info", "-n", f"preflab-{os.getpid()}@%h",
                "--beat", "--schedule", str(Path(settings.PREFLAB_HOME) / "celerybeat-schedule"),
            ]  # fmt: skip
            procs.append(subprocess.Popen(worker, cwd=settings.BASE_DIR))
        url = f"http://{opts['host']}:{opts['port']}/"
        self.stdout.write(self.style.SUCCESS(f"PrefLab is running at {url}  (Ctrl-C stops it)"))

        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.3)
        self.stdout.write("Stopping...")
        # uvicorn's and Celery's own children use the embedded servers too. This process stops
        # those servers at exit only once every user has gone, so it must outlive them all:
        # collect the whole tree before it starts to come down.
        tree = [psutil.Process(p.pid) for p in procs if p.poll() is None]
        for parent in list(tree):
            with contextlib.suppress(psutil.NoSuchProcess):
                tree.extend(parent.children(recursive=True))
        for p in procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 30
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        _, alive = psutil.wait_procs(tree, timeout=max(0.1, deadline - time.monotonic()))
        for leftover in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()
        psutil.wait_procs(alive, timeout=5)
        if settings.EMBEDDED_DATABASE:
            embedded.postgres_release(Path(settings.PREFLAB_HOME))
        self.stdout.write("Stopped.")
