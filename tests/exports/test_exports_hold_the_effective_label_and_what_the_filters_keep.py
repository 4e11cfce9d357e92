"""Which pairs an export holds and how: aggregated human labels, then votes, then imported
labels (the rule of webapp.pairs.labels), mu oriented to the exported chosen response, and each
filter, with the dataset card counting what was left out and why."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tests.exports.helpers import add_scores, add_votes, export_rows_by_pair, make_pairs
from webapp.labelling.models import HumanLabel
from webapp.pairs.labels import effective_labels


def test_labels_follow_aggregation_then_votes_then_the_import(project: Any) -> None:
    made = make_pairs(project, 8, conversations=False)
    a_pair, b_pair, tie_pair, unlabelled = made.pairs[:4]
    add_votes(a_pair, ["b", "b", "a"])  # votes overrule the imported "a"
    add_votes(tie_pair, ["a"])  # a tie imported, one vote for A: exported as A
    add_votes(unlabelled, ["a", "b"])  # votes split evenly: a tie, left out
    aggregated = made.pairs[4]  # imported "a"; the aggregated human label says "b"
    HumanLabel.objects.create(
        pair=aggregated,
        project=project,
        label="b",
        confidence=0.9,
        source="dawid_skene",
        n_votes=3,
        majority_label="b",
        majority_share=2 / 3,
        computed_at=timezone.now(),
    )
    _, rows = export_rows_by_pair(project)
    assert rows[aggregated.pk]["chosen"] == made.expected[aggregated.pk]["b"]
    assert rows[aggregated.pk]["label_source"] == "dawid_skene"
    assert rows[aggregated.pk]["human_agreement"] == 0.9
    assert rows[a_pair.pk]["chosen"] == made.expected[a_pair.pk]["b"]
    assert rows[a_pair.pk]["label_source"] == "votes"
    assert rows[a_pair.pk]["human_agreement"] == pytest.approx(2 / 3)
    assert rows[b_pair.pk]["chosen"] == made.expected[b_pair.pk]["b"]
    assert rows[b_pair.pk]["label_source"] == "imported"
    assert rows[tie_pair.pk]["chosen"] == made.expected[tie_pair.pk]["a"]
    assert unlabelled.pk not in rows
    effective = effective_labels(project=project)
    exported = {pid for pid, e in effective.items() if e.label in ("a", "b")}
    assert set(rows) == exported


def test_mu_follows_the_exported_chosen_response(project: Any) -> None:
    made = make_pairs(project, 8, conversations=False)
    add_scores(project, made, mu_of=lambda k: 2.0)
    flipped = made.pairs[0]  # imported "a", scored as "a"; votes make it "b"
    add_votes(flipped, ["b"])
    snapshot, rows = export_rows_by_pair(project, with_margin=True)
    assert rows[flipped.pk]["mu"] == -2.0 and rows[flipped.pk]["margin"] == 0.0
    assert rows[made.pairs[1].pk]["mu"] == 2.0 and rows[made.pairs[1].pk]["margin"] == 2.0
    assert snapshot.scoring_run_id == made.run.pk  # type: ignore[union-attr]


def test_filters_drop_flagged_weak_and_other_splits(project: Any) -> None:
    made = make_pairs(project, 24, conversations=False)
    preferred = [p for p in made.pairs if p.imported_label in ("a", "b")]
    flagged = preferred[0]
    add_scores(project, made, mu_of=lambda k: float(k), flag_ids=(flagged.pk,))
    snapshot, rows = export_rows_by_pair(
        project, drop_flagged=True, min_strength=5.0, split="train"
    )
    kept = {
        p.pk
        for k, p in enumerate(made.pairs)
        if p.imported_label in ("a", "b") and k >= 5 and p.split == "train" and p.pk != flagged.pk
    }
    assert set(rows) == kept
    train = snapshot.counts["splits"]["train"]
    assert train["exported"] == len(kept)
    assert train["tie"] + train["unlabelled"] == sum(
        1 for p in made.pairs if p.split == "train" and p.imported_label not in ("a", "b")
    )
    # each pair left out is counted once, under the first filter that leaves it out
    reasons = ("dropped", "unlabelled", "tie", "flagged", "below_strength", "exported")
    assert sum(train[reason] for reason in reasons) == train["pairs"]
    assert train["flagged"] == (1 if flagged.split == "train" else 0)
    assert train["below_strength"] == sum(
        1
        for k, p in enumerate(made.pairs)
        if p.imported_label in ("a", "b") and k < 5 and p.split == "train" and p.pk != flagged.pk
    )
    assert train["scored"] == len(kept)
    card = (snapshot.path / "README.md").read_text()
    assert "flagged by the ensemble" in card and "at least 5.0" in card
    assert f"| train | {train['pairs']} | {len(kept)} |" in card
    assert "test" not in snapshot.counts["splits"]


def test_a_flagged_pair_is_exported_with_its_flags_unless_dropped(project: Any) -> None:
    made = make_pairs(project, 4, conversations=False)
    add_scores(project, made, flag_ids=(made.pairs[0].pk,))
    _, rows = export_rows_by_pair(project)
    assert rows[made.pairs[0].pk]["flags"] == ["ambiguous", "likely_mislabelled"]
    assert rows[made.pairs[1].pk]["flags"] is None
