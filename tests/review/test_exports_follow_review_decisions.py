"""Exports follow review decisions: a flip exports the other response as chosen, a drop
leaves the pair out (counted on the card), and "reviewed only" keeps the decided pairs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.exports.helpers import make_pairs
from tests.review.helpers import reviewer
from webapp.exports.selectors import ExportError, ExportSpec
from webapp.exports.services import export_create, export_write
from webapp.review import services

pytestmark = pytest.mark.django_db


def _export(project: Any, **spec: Any) -> tuple[Any, dict[int, dict[str, Any]]]:
    snapshot = export_write(
        snapshot=export_create(
            project=project, file_format="jsonl", spec=ExportSpec(**spec), enqueue=False
        )
    )
    rows = {}
    for f in snapshot.files:
        if f["name"].endswith(".jsonl"):
            for line in (snapshot.path / f["name"]).read_text().split("\n"):
                if line:
                    row = json.loads(line)
                    rows[row["pair_id"]] = row
    return snapshot, rows


def test_flip_drop_and_reviewed_only(project: Any) -> None:
    made = make_pairs(project, 6, conversations=False)
    labelled = [p for p in made.pairs if p.imported_label in ("a", "b")]
    flipped, dropped, kept = labelled[:3]
    rita = reviewer(project)
    with pytest.raises(ExportError, match="no review decisions"):
        _export(project, reviewed_only=True)
    _, before = _export(project)
    assert {flipped.pk, dropped.pk, kept.pk} <= set(before)
    services.review_decide(project=project, pair_id=flipped.pk, action="flip", reviewer=rita)
    services.review_decide(project=project, pair_id=dropped.pk, action="drop", reviewer=rita)
    services.review_decide(project=project, pair_id=kept.pk, action="keep", reviewer=rita)

    snapshot, rows = _export(project)
    assert dropped.pk not in rows
    assert rows[flipped.pk]["chosen"] == before[flipped.pk]["rejected"]
    assert rows[flipped.pk]["label_source"] == "review"
    assert sum(c["dropped"] for c in snapshot.counts["splits"].values()) == 1
    assert "dropped by a reviewer" in (snapshot.path / "README.md").read_text()

    _, reviewed = _export(project, reviewed_only=True)
    assert set(reviewed) == {flipped.pk, kept.pk}
    # undo the drop: the pair is back, with its imported label
    services.review_undo(project=project, pair_id=dropped.pk, reviewer=rita)
    _, after_undo = _export(project)
    assert after_undo[dropped.pk]["chosen"] == before[dropped.pk]["chosen"]
