"""Every text a record of a newer format holds, and every name in it that PrefLab keeps (the
names of fields it keeps as metadata, raters' names), is checked for what PostgreSQL cannot
store: a NUL or a lone surrogate anywhere rejects its record by file, line and field (the field
written with escapes, so the report itself can be saved) and never fails the import as a
whole; the good records beside it go in, and nothing stored before changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.security.formats import Format, Record, stored_for, write
from tests.security.newer_formats import FORMATS
from webapp.imports.fields import storable

pytestmark = pytest.mark.django_db

VALUES = [("nul", "bad \x00 text", "NUL"), ("lone-surrogate", "bad \ud800 text", "surrogate")]
FIELDS = [(fmt, put, named) for fmt in FORMATS for put, named in fmt.others]


@pytest.mark.parametrize(("_", "value", "word"), VALUES, ids=[v[0] for v in VALUES])
@pytest.mark.parametrize(
    ("fmt", "put", "named"), FIELDS, ids=[f"{f.name}-{named}" for f, _, named in FIELDS]
)
def test_a_bad_text_anywhere_rejects_its_record_alone(
    fmt: Format,
    put: Callable[[Record, Any], None],
    named: str,
    _: str,
    value: str,
    word: str,
    tmp_path: Path,
    admin_user: Any,
) -> None:
    stored = stored_for(fmt, tmp_path, admin_user)
    lines = fmt.lines(range(1, 4), "good")
    at = fmt.rows  # the first record of the second unit
    put(lines[at], value)
    path = write(tmp_path / f"names-{fmt.name}{fmt.suffix}", lines)
    outcome = fmt.run(stored.project, path)
    field = storable(named.format(v=value))
    partner = [(path.name, at + 2, "response")] if fmt.rows == 2 else []
    assert sorted(e[:3] for e in outcome.errors) == sorted([(path.name, at + 1, field), *partner])
    reason = next(e[3] for e in outcome.errors if e[1] == at + 1)
    assert word.lower() in reason.lower(), reason
    stored.assert_unchanged(**{name: 2 * n for name, n in fmt.stored.items()})
