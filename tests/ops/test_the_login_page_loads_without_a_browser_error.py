"""The login page, the first page anyone sees, loads in Chromium with every asset it asks for
(the favicon included) and no console error."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ConsoleErrors

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_login_page_asks_for_nothing_missing(
    page: Any, console_errors: ConsoleErrors, transactional_db: Any
) -> None:
    # Chromium asks for the favicon by itself and reports a 404 only in its console
    page.goto("/login/")
    page.wait_for_load_state("networkidle")
    assert page.is_visible("#id_username")
    assert console_errors.unexpected() == []
