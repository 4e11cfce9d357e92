"""`manage.py check --deploy` finds nothing to warn about with production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from tests.conftest import ROOT

# DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' own (tests/conftest.py), never production's.
_NOT_INHERITED = ("DEBUG", "SITE_URL", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")


def deploy_check(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_production_settings_pass_the_deploy_check() -> None:
    result = deploy_check(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(60),
        SITE_URL="https://preflab.example.org",
        ALLOWED_HOSTS="preflab.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_check_does_complain_about_a_plain_http_debug_site() -> None:
    # The same check with development settings must fail, or the test above proves nothing.
    result = deploy_check(DEBUG="true", SITE_URL="http://127.0.0.1:8000")
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG on
