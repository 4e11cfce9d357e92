"""A boolean or number in the environment that PrefLab cannot read stops it at start, with the
variable and what it accepts in the message, rather than reading as false or a traceback of
int(); valid values still read as they say. And webapp/settings.py sets each setting once."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ROOT

SHOW = "import django; django.setup(); from django.conf import settings; print({})"


def _start(tmp_path: Path, shown: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """Django set up in a process of its own with these variables; it prints ``shown``."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="webapp.settings", PREFLAB_HOME=str(tmp_path))
    env.update(SECRET_KEY="only-for-this-test", **variables)
    return subprocess.run(
        [sys.executable, "-c", SHOW.format(shown)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_mistyped_boolean_stops_the_start_naming_it_and_the_accepted_words(
    tmp_path: Path,
) -> None:
    started = _start(tmp_path, "settings.DEBUG", DEBUG="ture")
    assert started.returncode != 0
    last = started.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last
    assert "DEBUG='ture' is not a boolean" in last
    for word in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        assert word in last.split("use one of", 1)[1]


def test_a_number_that_is_not_one_stops_the_start_naming_it(tmp_path: Path) -> None:
    started = _start(tmp_path, "settings.EXPORT_STREAMS", EXPORT_STREAMS="four")
    assert started.returncode != 0
    last = started.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last
    assert "EXPORT_STREAMS='four' is not a whole number" in last


@pytest.mark.parametrize(
    ("value", "debug"), [("True", True), (" yes ", True), ("1", True), ("off", False), ("", False)]
)
def test_valid_booleans_and_numbers_read_as_they_say(
    tmp_path: Path, value: str, debug: bool
) -> None:
    shown = "settings.DEBUG, settings.EXPORT_STREAMS"
    started = _start(tmp_path, shown, DEBUG=value, EXPORT_STREAMS="3")
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == [str(debug), "3"]


def _assignments(body: list[ast.stmt]) -> Counter[str]:
    """How often these statements assign each name; an if counts its busier branch."""
    counts: Counter[str] = Counter()
    for node in body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            counts.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.If):
            counts.update(_assignments(node.body) | _assignments(node.orelse))
    return counts


def test_no_setting_is_assigned_twice() -> None:
    tree = ast.parse((ROOT / "webapp" / "settings.py").read_text())
    counts = {name: n for name, n in _assignments(tree.body).items() if name.isupper()}
    assert len(counts) > 50  # the walk finds the settings
    assert sorted(name for name, n in counts.items() if n > 1) == []
