"""Helpers for browser tests; the `browser` and `page` fixtures live in tests/conftest.py."""

from __future__ import annotations

from typing import Any


def log_in(page: Any, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
