"""Database sessions, looked up with one prepared SQL query.

Django's database session store, except for the lookup every request makes: the ORM's query
compiler and PostgreSQL's planner cost more CPU than the query itself, on each request of each
page (see webapp/dbbackend/prepared.py). Sessions stay rows
of django_session, so logging out, or deleting the row, ends a session everywhere at once.
``SESSION_ENGINE = "webapp.ops.sessions"``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.utils import timezone

from webapp.dbbackend import prepared


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        if key is None:
            return None
        model = self.model
        table = model._meta.db_table
        with prepared.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data, expire_date FROM {table} "
                "WHERE session_key = %s AND expire_date > %s",
                [key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=key, session_data=row[0], expire_date=row[1])
