"""PostgreSQL backend that starts the embedded server on first connection.

Used only when DATABASE_URL is unset. Starting lazily means `manage.py` commands that never
touch the database (and tools that import settings, such as mypy's Django plugin) start no
server, while every command that does touch it finds one running.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base

from webapp import embedded


class DatabaseWrapper(base.DatabaseWrapper):
    _ready_databases: set[str] = set()

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        home = Path(settings.PREFLAB_HOME)
        params["host"] = embedded.ensure_postgres(home)
        name = params.get("dbname") or "postgres"
        # Django's test runner creates and drops its own test_* databases itself.
        if name not in self._ready_databases and not name.startswith("test_"):
            embedded.ensure_database(home, name)
            self._ready_databases.add(name)
        return params
