"""The login backend: Django's ModelBackend, with the per-request user lookup in plain SQL.

Every request of a logged-in user loads the user by the id in their session; the ORM's query
compiler cost more CPU than the query itself. Logging in, passwords and permissions are
ModelBackend's own.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import backends, get_user_model
from django.core.exceptions import ValidationError


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        pk = model._meta.pk
        assert pk is not None
        try:
            key = pk.to_python(user_id)
        except ValidationError:
            return None
        sql = f"SELECT * FROM {model._meta.db_table} WHERE {pk.column} = %s"
        user = next(iter(model._default_manager.raw(sql, [key])), None)
        return user if user is not None and self.user_can_authenticate(user) else None
