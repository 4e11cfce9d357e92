"""A throwaway PostgreSQL database for benchmarks, so they never touch anyone's real data.

``django_setup()`` points Django at the database ``preflab_bench`` before settings load (the
runner calls it once): on the server DATABASE_URL names when it is set, else on the local
127.0.0.1:5432 when it answers, else on an embedded server under a temporary PREFLAB_HOME.
``bench_database()`` drops and recreates that database, migrates it, and drops it on the way
out::

    with bench_database():
        ...  # Django's default connection is the fresh, migrated preflab_bench
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# BENCH_DB_NAME: another name, for a run that must not wait for another benchmark's.
BENCH_DB = os.environ.get("BENCH_DB_NAME", "preflab_bench")
LOCAL_URL = f"postgresql://postgres@127.0.0.1:5432/{BENCH_DB}"


def listening(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def django_setup() -> None:
    """Load Django's settings aimed at the bench database; a no-op once Django is set up."""
    from django.apps import apps

    if apps.ready:
        return
    # Settings write a secret key under PREFLAB_HOME, and the embedded servers keep their data
    # there: a temporary home keeps the user's own (and its running servers) out of reach.
    home = tempfile.mkdtemp(prefix="preflab-bench-")
    atexit.register(shutil.rmtree, home, True)  # registered first, so it runs after pgserver's
    os.environ["PREFLAB_HOME"] = home
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    url = os.environ.get("DATABASE_URL", "")
    if url:
        os.environ["DATABASE_URL"] = urlsplit(url)._replace(path=f"/{BENCH_DB}").geturl()
    elif listening("127.0.0.1", 5432):
        os.environ["DATABASE_URL"] = LOCAL_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "webapp.settings"

    import django
    from django.conf import settings

    django.setup()
    # The embedded default names its database "preflab"; no connection exists yet to care.
    settings.DATABASES["default"]["NAME"] = BENCH_DB


def _admin_params() -> dict[str, Any]:
    """How to reach the server's maintenance database, to create and drop ours."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    if settings.EMBEDDED_DATABASE:
        from webapp import embedded

        host = embedded.ensure_postgres(Path(settings.PREFLAB_HOME))
        return {"host": host, "user": "postgres", "dbname": "postgres"}
    params: dict[str, Any] = {"dbname": "postgres", "user": db["USER"] or "postgres"}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("PASSWORD", "password")):
        if db.get(key):
            params[name] = db[key]
    if "sslmode" in db["OPTIONS"]:
        params["sslmode"] = db["OPTIONS"]["sslmode"]
    return params


@contextmanager
def _server_lock(params: dict[str, Any]) -> Iterator[Any]:
    """An admin connection holding a lock on the bench database's name for the whole run.

    Two runs on one server would drop each other's database, and would skew each other's
    figures anyway: the second waits. PostgreSQL drops the lock with the session, so a killed
    run never leaves it held.
    """
    import psycopg

    with psycopg.connect(**params, autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [BENCH_DB]).fetchone()
        if not (row and row[0]):
            print(f"waiting for another benchmark run using {BENCH_DB}...", file=sys.stderr)
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [BENCH_DB])
        yield conn


@contextmanager
def bench_database(*, template: str = "") -> Iterator[bool]:
    """A fresh, migrated ``preflab_bench`` as Django's default database, dropped at the end.

    With ``template``, a database of that name kept by an earlier run (``database_keep``) is
    copied instead of starting empty, then migrated; yields whether it was.
    """
    django_setup()
    from django.core.management import call_command
    from django.db import connection, connections

    if connection.settings_dict["NAME"] != BENCH_DB:
        raise RuntimeError(
            f"Django is set up on database {connection.settings_dict['NAME']!r}, not "
            f"{BENCH_DB!r}: call bench.db.django_setup() before anything loads settings"
        )
    connections.close_all()
    with _server_lock(_admin_params()) as admin:
        # WITH (FORCE): sessions a killed run left behind must not keep the database alive.
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        found = (
            template
            and admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
        )
        if found:
            admin.execute(f'CREATE DATABASE "{BENCH_DB}" TEMPLATE "{template}"')
        else:
            admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
        try:
            call_command("migrate", interactive=False, verbosity=0)
            yield bool(found)
        finally:
            connections.close_all()
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def database_keep(template: str) -> None:
    """Copy the bench database as it is now to ``template``, for later runs to start from
    (``bench_database(template=...)``). It stays on the server until dropped by hand."""
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(**_admin_params(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{template}"')
        admin.execute(f'CREATE DATABASE "{template}" TEMPLATE "{BENCH_DB}"')
