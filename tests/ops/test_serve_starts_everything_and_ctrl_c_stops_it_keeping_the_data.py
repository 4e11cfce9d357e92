"""`make run` is `manage.py serve --demo`: it serves, Ctrl-C stops everything, data stays."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, wait_for_port
from tests.ops.test_the_embedded_servers_keep_their_data_across_a_restart import postgres_running
from webapp import embedded

pytestmark = pytest.mark.slow


def start(home: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PREFLAB_HOME=str(home), PORT=str(port), PREFLAB_ADMIN_PASSWORD="demo-pass-123")
    return subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--demo"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip


def interrupt(proc: subprocess.Popen[str]) -> str:
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
    out, _ = proc.communicate(timeout=90)
    return out


def log_in(port: int, password: str) -> str:
    """Log in as the admin through the real form; returns the projects page."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    form = opener.open(f"{base}/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None
    data = urllib.parse.urlencode(
        {"username": "admin", "password": password, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    request = urllib.request.Request(f"{base}/login/", data=data, headers={"Referer": base})
    with opener.open(request, timeout=30) as page:
        return str(page.read().decode())


def test_serve_starts_everything_and_ctrl_c_stops_it_keeping_the_data(tmp_path: Path) -> None:
    from tests.conftest import _free_port

    home, port = tmp_path / "home", _free_port()
    proc = start(home, port)
    try:
        wait_for_port(port, timeout=120)
        # the web server itself uses the database here, as a person's visit would
        assert "HH-RLHF demo" in log_in(port, "demo-pass-123")
    finally:
        out = interrupt(proc)
    assert "PrefLab is running at http://127.0.0.1:" in out, out
    first = [line for line in out.splitlines() if line.startswith("Demo project")]
    assert first and int(first[0].split(": ")[1].split()[0]) > 900, out
    assert proc.returncode == 0, out
    time.sleep(1)
    assert not postgres_running(home), "the embedded PostgreSQL outlived make run"
    assert not embedded.redis_ping(embedded.redis_socket(home)), "Redis outlived make run"

    # again: the demo is there already, nothing is imported twice
    proc = start(home, port)
    try:
        wait_for_port(port, timeout=120)
    finally:
        out = interrupt(proc)
    again = [line for line in out.splitlines() if line.startswith("Demo project")]
    assert again == first, out
