"""Exports follow review decisions: a flip exports the other response as chosen, a drop
leaves the pair out (counted on the card), and "reviewed only" keeps the decided pairs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.exports.helpers import export_rows_by_pair, make_pairs
from tests.review.helpers import reviewer
from webapp.exports.selectors import ExportError
from webapp.review import decisions

pytestmark = pytest.mark.django_db


def test_flip_drop_and_reviewed_only(project: Any) -> None:
    made = make_pairs(project, 6, conversations=False)
    labelled = [p for p in made.pairs if p.imported_label in ("a", "b")]
    flipped, dropped, kept = labelled[:3]
    rita = reviewer(project)
    with pytest.raises(ExportError, match="no review decisions"):
        export_rows_by_pair(project, reviewed_only=True)
    _, before = export_rows_by_pair(project)
    assert {flipped.pk, dropped.pk, kept.pk} <= set(before)
    decisions.review_decide(project=project, pair_id=flipped.pk, action="flip", reviewer=rita)
    decisions.review_decide(project=project, pair_id=dropped.pk, action="drop", reviewer=rita)
    decisions.review_decide(project=project, pair_id=kept.pk, action="keep", reviewer=rita)

    snapshot, rows = export_rows_by_pair(project)
    assert dropped.pk not in rows
    assert rows[flipped.pk]["chosen"] == before[flipped.pk]["rejected"]
    assert rows[flipped.pk]["label_source"] == "review"
    assert sum(c["dropped"] for c in snapshot.counts["splits"].values()) == 1
    assert "dropped by a reviewer" in (snapshot.path / "README.md").read_text()

    _, reviewed = export_rows_by_pair(project, reviewed_only=True)
    assert set(reviewed) == {flipped.pk, kept.pk}
    # undo the drop: the pair is back, with its imported label
    decisions.review_undo(project=project, pair_id=dropped.pk, reviewer=rita)
    _, after_undo = export_rows_by_pair(project)
    assert after_undo[dropped.pk]["chosen"] == before[dropped.pk]["chosen"]
