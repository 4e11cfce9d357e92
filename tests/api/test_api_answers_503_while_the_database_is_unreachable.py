"""While the database cannot be reached the API answers 503 with Retry-After, in its usual
error shape, so a client knows to retry; nothing was acknowledged."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError

from webapp.api.errors import exception_handler


@pytest.mark.parametrize("error", [OperationalError("connection refused"), InterfaceError("gone")])
def test_a_database_outage_is_a_503(error: Exception) -> None:
    response = exception_handler(error, {"view": None})
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.data["error"]["code"] == "unavailable"
    assert "nothing was stored" in response.data["error"]["message"]


def test_another_unexpected_error_is_still_a_500() -> None:
    response = exception_handler(ValueError("bug"), {"view": None})
    assert response.status_code == 500
