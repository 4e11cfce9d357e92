"""The embedded default: no DATABASE_URL / REDIS_URL, and PrefLab runs on servers of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from webapp import embedded

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def manage(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PREFLAB_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def postgres_running(home: Path) -> bool:
    pid_file = embedded.pg_data_dir(home) / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_data_survives_a_restart_of_the_embedded_servers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    migrated = manage(home, "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    created = manage(
        home, "shell", "-c",
        "from webapp.projects.services import project_create; project_create(name='kept')",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    # the command was the last user: both servers stopped with it
    assert not postgres_running(home)
    assert not embedded.redis_ping(embedded.redis_socket(home))
    read = manage(
        home, "shell", "-c",
        "from webapp.projects.models import Project; "
        "print(list(Project.objects.values_list('name', flat=True)))",
    )  # fmt: skip
    assert read.returncode == 0, read.stderr
    assert "['kept']" in read.stdout


def test_embedded_redis_keeps_its_data_across_a_restart(tmp_path: Path) -> None:
    import redis

    sock = embedded.ensure_redis(tmp_path)
    client = redis.Redis(unix_socket_path=str(sock))
    client.set("vote", "kept")
    embedded.stop_redis(sock)
    assert not embedded.redis_ping(sock)
    embedded._start_redis(sock.parent, sock)
    try:
        assert redis.Redis(unix_socket_path=str(sock)).get("vote") == b"kept"
    finally:
        embedded.stop_redis(sock)
