"""Markup and script in every text field of an import are stored exactly as given, and the
pages that show them (the pair page, the labelling page) escape them."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest

from tests.factories import ProjectFactory
from tests.labelling.helpers import annotator
from tests.security.hostile import (
    HOSTILE_MAPPING,
    PAYLOAD,
    Stored,
    hostile_record,
    raw_markup,
    run_import,
)
from webapp.pairs.models import Pair

pytestmark = pytest.mark.django_db


def _import(stored: Stored, tmp_path: Path) -> tuple[Pair, dict[str, Any]]:
    record = hostile_record(1)
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(record) + "\n")
    batch = run_import(stored.project, path, fmt="mapping", mapping=HOSTILE_MAPPING)
    assert batch.pairs_created == 1, batch.errors
    stored.assert_unchanged(new_pairs=1)
    return Pair.objects.select_related("prompt", "response_a", "response_b").get(
        import_batch=batch
    ), record


def test_every_field_is_stored_exactly(stored: Stored, tmp_path: Path) -> None:
    pair, record = _import(stored, tmp_path)
    assert pair.prompt.text == record["q"]
    assert (pair.response_a.text, pair.response_b.text) == (record["good"], record["bad"])
    assert (pair.response_a.source_model, pair.response_b.source_model) == (
        record["ma"],
        record["mb"],
    )
    assert (pair.external_id, pair.split) == (record["id"], record["split"])
    assert pair.metadata == {"note": PAYLOAD}


def test_the_pair_page_escapes_every_field(
    stored: Stored, tmp_path: Path, admin_client: Any
) -> None:
    pair, record = _import(stored, tmp_path)
    page = admin_client.get(f"/projects/{stored.project.pk}/pairs/{pair.pk}/")
    assert page.status_code == 200
    content = page.content.decode()
    assert raw_markup(content) == []
    fields = ("q", "good", "bad", "ma", "mb", "split", "id")
    missing = [f for f in fields if html.escape(record[f]) not in content]
    assert not missing, f"not shown as escaped text: {missing}"


def test_the_labelling_page_escapes_the_texts(db: Any, tmp_path: Path, client: Any) -> None:
    project = ProjectFactory(name="hostile labelling")
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(hostile_record(1)) + "\n")
    assert run_import(project, path, fmt="mapping", mapping=HOSTILE_MAPPING).pairs_created == 1
    client.force_login(annotator(project, "labeller"))
    page = client.get(f"/projects/{project.pk}/label/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "good " in content and "bad " in content  # the pair is on the page...
    assert raw_markup(content) == []  # ...with none of its markup live
    assert "&lt;script&gt;" in content
