"""Hundreds of thousands of tiny records go in with a sensible report: every record counted,
the bad ones named by line, progress that reaches the end, and nothing stored before changed.

200,000 by default, which keeps `make test` quick on a shared machine (about 25 s);
PREFLAB_TINY_RECORDS=1000000 runs the full million (about five times as long). The speed
figure itself is `make bench ONLY=import`'s."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.security.hostile import Stored
from webapp.imports.models import ImportBatch
from webapp.imports.services import import_batch_create, import_run

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

N = int(os.environ.get("PREFLAB_TINY_RECORDS", 200_000))
BAD_EVERY = 20_000


def test_many_tiny_records_are_imported_and_reported(stored: Stored, tmp_path: Path) -> None:
    path = tmp_path / "tiny.jsonl"
    with path.open("w") as fh:
        for i in range(1, N + 1):
            if i % BAD_EVERY == 0:
                fh.write('{"prompt":"p","chosen":1}\n')
            else:
                fh.write(f'{{"prompt":"p{i}","chosen":"a","rejected":"b"}}\n')
    seen: list[tuple[int, int]] = []
    batch = import_batch_create(project=stored.project, path=path, file_name=path.name)
    started = time.monotonic()
    import_run(batch=batch, progress=lambda done, total, _: seen.append((done, total)))
    elapsed = time.monotonic() - started
    bad = N // BAD_EVERY
    assert batch.status == ImportBatch.Status.DONE
    assert batch.records_seen == N and batch.records_rejected == bad
    assert batch.pairs_created == N - bad
    assert [e["line"] for e in batch.errors] == [BAD_EVERY * k for k in range(1, bad + 1)]
    assert {e["field"] for e in batch.errors} == {"chosen"}
    assert len(seen) > 2 and seen[-1] == (path.stat().st_size,) * 2
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    stored.assert_unchanged(new_pairs=N - bad)
    print(f"{N} records in {elapsed:.1f} s")  # shown with -s; the speed target is in bench/
