"""A record of a newer format whose text is huge (a line of 3 MB, multi-byte characters
included) is imported whole with the records around it, its text stored exactly; nothing
stored before changes. (The 50 MB record of a pair file, and the memory it takes, is
test_a_50_mb_record_is_imported_with_bounded_memory's: the containers are the same.)"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.security.formats import Format, stored_for, write
from tests.security.newer_formats import FORMATS, IDS
from webapp.judges.models import JudgeVerdict
from webapp.pairs.models import Prompt, Response

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SIZE = 3 * 1024 * 1024
HUGE = ("Ünïcödé and 日本語, at length. " * (SIZE // 20))[:SIZE]


def _digests_of_long_texts() -> set[str]:
    """The sha256 of each stored text over a megabyte, computed by PostgreSQL."""
    tables = [m._meta.db_table for m in (Prompt, Response)]
    column = {JudgeVerdict._meta.db_table: "reason"}
    with connection.cursor() as cursor:
        found: set[str] = set()
        for table in [*tables, *column]:
            text = column.get(table, "text")
            cursor.execute(
                f"SELECT encode(sha256(convert_to({text}, 'UTF8')), 'hex') FROM {table} "
                f"WHERE length({text}) > 1000000"
            )
            found |= {row[0] for row in cursor.fetchall()}
    return found


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_a_huge_text_is_stored_whole(fmt: Format, tmp_path: Path, admin_user: Any) -> None:
    stored = stored_for(fmt, tmp_path, admin_user)
    lines = fmt.lines(range(1, 4), "good")
    fmt.put(lines[fmt.rows], HUGE)
    outcome = fmt.run(stored.project, write(tmp_path / f"huge-{fmt.name}{fmt.suffix}", lines))
    assert outcome.errors == []
    stored.assert_unchanged(**{name: 3 * n for name, n in fmt.stored.items()})
    # a text is stored whole on its own, or a step within its solution's text
    whole = hashlib.sha256(HUGE.encode()).hexdigest() in _digests_of_long_texts()
    solutions = Response.objects.filter(text__contains=HUGE[:200]).values_list("text", flat=True)
    assert whole or (fmt.scheme == "steps" and any(HUGE in text for text in solutions))
