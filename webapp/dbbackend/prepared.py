"""A database cursor for the statements every request runs, planned once; model instances from
its rows.

Django's psycopg cursors bind parameters on the client, so PostgreSQL parses and plans each
statement anew; for the lookups of every request (session, user, project access) and the
labelling statements (a lease, a vote, the pair to show) planning cost more CPU than running
them, and the ORM's query compiler more again. This cursor binds on the server and prepares
each statement, so a connection plans it once, and the pooled connections keep it from
request to request (psycopg keeps the last 100 per connection). Django turns psycopg's own
automatic preparing off, for the sake of connection poolers such as PgBouncer in transaction
mode; PrefLab uses psycopg's pool instead. It is Django's own cursor wrapper around it:
transactions, query logging and error translation are as for any cursor. One statement per
execute (a prepared statement cannot hold two).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.models import Model

# Statements prepare when asked to (prepare=True below), never by count: Django's own cursors
# bind on the client and never prepare anyway.
_ONLY_WHEN_ASKED = 2**31 - 1


class _Prepared(psycopg.Cursor[Any]):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        kwargs["prepare"] = True
        return super().execute(query, params, **kwargs)


def cursor() -> Any:
    connection.ensure_connection()
    connection.validate_thread_sharing()
    conn = connection.connection
    if conn.prepare_threshold is None:  # Django's setting, which would refuse prepare=True
        conn.prepare_threshold = _ONLY_WHEN_ASKED
    wrapper: Any = (
        connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    )
    return wrapper(_Prepared(conn))


def columns(model: type[Model], alias: str) -> str:
    """The select list of the model's concrete columns, in field order, for ``instance``."""
    return ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in _fields(model))


def instance(model: type[Model], values: Sequence[Any]) -> Any:
    """The model instance for a row of ``columns(model, ...)``, as the ORM would build it
    (values decoded by their fields, such as JSON)."""
    fields = _fields(model)
    decoded = [
        f.from_db_value(v, None, connection) if hasattr(f, "from_db_value") else v
        for f, v in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [f.attname for f in fields], decoded)


def _fields(model: type[Model]) -> list[Any]:
    return list(model._meta.concrete_fields)


def one_row(sql: str, params: dict[str, Any], *, durable: bool = True) -> tuple[Any, ...] | None:
    """Run one prepared statement and return its first row. PostgreSQL makes a single
    statement atomic by itself; inside a transaction it runs under a savepoint, so that a
    failure (a unique violation, say) leaves the surrounding transaction usable.

    ``durable=False`` commits without waiting for the disk (asynchronous commit), for writes
    that are cheap to lose in a database crash: a lease, never a vote. Only a statement that
    is its own transaction gets it, so it can never loosen someone else's commit.
    """
    if connection.in_atomic_block or durable:
        savepoint = transaction.atomic() if connection.in_atomic_block else nullcontext()
        with savepoint, cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()
    with transaction.atomic(), cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit TO OFF")
        cur.execute(sql, params)
        return cur.fetchone()
