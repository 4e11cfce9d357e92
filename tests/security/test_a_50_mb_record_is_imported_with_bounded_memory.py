"""One 50 MB record (a response of 50 MB) is imported whole, as JSON Lines and as a JSON array,
with memory bounded by a few copies of the record, and stored exactly."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from pathlib import Path

import pytest

from tests.security.hostile import Stored, run_import
from webapp.imports.models import ImportBatch
from webapp.pairs.models import Pair

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SIZE = 50 * 1024 * 1024


@pytest.mark.parametrize("container", ["jsonl", "json"])
def test_a_50_mb_record_is_imported_with_bounded_memory(
    stored: Stored, tmp_path: Path, container: str
) -> None:
    big = ("All work and no play. " * (SIZE // 22 + 1))[:SIZE]
    record = json.dumps({"prompt": "Write a lot.", "chosen": big, "rejected": "No."})
    small = json.dumps({"prompt": "Then a little.", "chosen": "yes", "rejected": "no"})
    path = tmp_path / f"big.{container}"
    path.write_text(f"[{record},\n{small}]" if container == "json" else f"{record}\n{small}\n")
    del record
    tracemalloc.start()
    try:
        batch = run_import(stored.project, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert batch.pairs_created == 2 and not batch.errors
    # the file's bytes, its text, the parsed string and COPY's buffer: a handful of copies
    assert peak < 8 * SIZE, f"peak {peak / 2**20:.0f} MiB for a {SIZE / 2**20:.0f} MiB record"
    pair = Pair.objects.get(import_batch=batch, source_line=1)
    stored_text = pair.response_a.text
    assert len(stored_text) == SIZE
    assert hashlib.sha256(stored_text.encode()).digest() == hashlib.sha256(big.encode()).digest()
    stored.assert_unchanged(new_pairs=2)
