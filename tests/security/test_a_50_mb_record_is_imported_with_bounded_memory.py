"""One 50 MB record (a response of 50 MB) is imported whole, as JSON Lines and as a JSON array,
with memory bounded by a few copies of the record, and stored exactly; the project page and
the API's list of pairs show it as a preview, staying small."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import client_for
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


def test_the_project_page_and_pair_list_stay_small_with_a_50_mb_record(
    stored: Stored, tmp_path: Path, admin_client: Any, admin_user: Any
) -> None:
    big = ("All work and no play. " * (SIZE // 22 + 1))[:SIZE]
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"prompt": "Write a lot.", "chosen": big, "rejected": "No."}) + "\n")
    del big
    assert run_import(stored.project, path).pairs_created == 1
    pair = Pair.objects.get(project=stored.project, source_file="big.jsonl")
    # the page of pairs that holds it, and the API's
    page = admin_client.get(f"/projects/{stored.project.pk}/?after={pair.pk - 1}")
    assert page.status_code == 200
    assert len(page.content) < 100_000, f"{len(page.content)} bytes"
    assert f"{SIZE:,} characters" in page.content.decode()
    listed = client_for(admin_user).get(f"/api/projects/{stored.project.pk}/pairs/?page_size=500")
    assert len(listed.content) < 500_000, f"{len(listed.content)} bytes"
    assert SIZE in [row["response_a_length"] for row in listed.json()["results"]]
