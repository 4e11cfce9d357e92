"""A database cursor for the statements every labelling request runs, planned once.

Django's psycopg cursors bind parameters on the client, so PostgreSQL parses and plans each
statement anew; for the labelling statements (a lease, a vote, the pair to show) planning cost
more CPU than running them. This cursor binds on the server and prepares each statement, so a
connection plans it once, and the pooled connections keep it from request to request (psycopg
keeps the last 100 per connection). Django turns psycopg's own automatic preparing off, for
the sake of connection poolers such as PgBouncer in transaction mode; PrefLab uses psycopg's
pool instead. It is Django's own cursor wrapper around it: transactions, query logging and
error translation are as for any cursor. One statement per execute (a prepared statement
cannot hold two).
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db import connection

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
