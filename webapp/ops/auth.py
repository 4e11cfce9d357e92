"""The login backend: Django's ModelBackend, with the per-request user lookup in prepared SQL.

Every request of a logged-in user loads the user by the id in their session; the ORM's query
compiler and PostgreSQL's planner cost more CPU than the query itself (see
webapp/dbbackend/prepared.py). Logging in, passwords and permissions are
ModelBackend's own.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import backends, get_user_model
from django.core.exceptions import ValidationError

from webapp.dbbackend import prepared


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        pk = model._meta.pk
        assert pk is not None
        try:
            key = pk.to_python(user_id)
        except ValidationError:
            return None
        with prepared.cursor() as cursor:
            cursor.execute(
                f"SELECT {prepared.columns(model, 'u')} FROM {model._meta.db_table} u "
                f"WHERE u.{pk.column} = %s",
                [key],
            )
            row = cursor.fetchone()
        user = prepared.instance(model, row) if row else None
        return user if user is not None and self.user_can_authenticate(user) else None
