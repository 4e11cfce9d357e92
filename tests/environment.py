"""Loaded by pytest before Django (``-p tests.environment`` in pyproject).

Tests use the local PostgreSQL and Redis on 127.0.0.1 when they answer (as on CI), and the
embedded servers otherwise; an explicit DATABASE_URL / REDIS_URL always wins. Redis database
15 keeps test traffic apart from a development server's database 0.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile


def _redis_keys_remove(url: str, pattern: str) -> None:
    """The run's keys on the shared test Redis database (the broker's queues and bindings)."""
    import redis

    try:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match=pattern, count=1000):
            client.delete(key)
    except redis.RedisError:
        pass  # a server gone by the end of the run has nothing left to tidy


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# Each test run gets its own database name and Redis key prefix, so two runs on one machine
# (or a run beside a development server) never drop each other's database or take each
# other's tasks.
RUN = f"t{os.getpid()}"
if "DATABASE_URL" not in os.environ and _listening(5432):
    os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/preflab_{RUN}"
if "REDIS_URL" not in os.environ and _listening(6379):
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    atexit.register(lambda: _redis_keys_remove(os.environ["REDIS_URL"], f"{RUN}:*"))
os.environ.setdefault("REDIS_KEY_PREFIX", f"{RUN}:")
if "PREFLAB_HOME" not in os.environ:
    # Saved models, exports and (without local servers) the embedded servers' data live here.
    # Registered before Django loads, so it runs after the embedded servers have stopped.
    os.environ["PREFLAB_HOME"] = tempfile.mkdtemp(prefix="preflab-test-")
    atexit.register(shutil.rmtree, os.environ["PREFLAB_HOME"], True)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
