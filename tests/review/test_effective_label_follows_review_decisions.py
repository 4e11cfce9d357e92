"""The effective label: a review decision first, then aggregated human votes, then votes, then
the imported label; undo is a new decision that puts back what was in force before."""

from __future__ import annotations

from typing import Any

import pytest

from tests.labelling.helpers import annotator, lease, make_pairs, vote
from tests.review.helpers import reviewer
from webapp.labelling.models import HumanLabel
from webapp.pairs.labels import effective_label, effective_labels
from webapp.review import decisions
from webapp.review.models import PairReview, ReviewDecision

pytestmark = pytest.mark.django_db


def label_of(project: Any, pair: Any) -> tuple[str, str]:
    eff = effective_label(project=project, pair_id=pair.pk)
    assert eff is not None
    whole = effective_labels(project=project)[pair.pk]
    assert whole == eff  # the per-pair and per-project variants agree
    return eff.label, eff.source


def test_imported_then_votes_then_human_label_then_review(project: Any) -> None:
    (pair,) = make_pairs(project, 1)
    rita = reviewer(project)
    assert label_of(project, pair) == ("a", "imported")
    for name in ("ann1", "ann2"):
        user = annotator(project, name)
        assignment = lease(project, user)
        assert assignment is not None
        # shown order is random: pick the side showing response B
        vote(project, user, assignment, side="right" if assignment.shown_order == "ab" else "left")
    assert label_of(project, pair) == ("b", "votes")
    HumanLabel.objects.create(
        pair=pair, project=project, label="both_bad", confidence=0.9, source="dawid_skene",
        n_votes=2, majority_label="b", majority_share=1.0, computed_at=pair.created_at,
    )  # fmt: skip
    assert label_of(project, pair) == ("tie", "dawid_skene")
    decisions.review_decide(project=project, pair_id=pair.pk, action="keep", reviewer=rita)
    assert label_of(project, pair) == ("tie", "review")
    decisions.review_decide(project=project, pair_id=pair.pk, action="drop", reviewer=rita)
    assert label_of(project, pair) == ("", "dropped")
    decision = decisions.review_decide(
        project=project, pair_id=pair.pk, action="more_votes", reviewer=rita, votes=2
    )
    # sent back: the humans decide again
    assert label_of(project, pair) == ("tie", "dawid_skene")
    assert decision.label_before == "" and decision.label_after == "tie"


def test_flip_tie_and_undo_step_back_one_decision_at_a_time(project: Any) -> None:
    (pair,) = make_pairs(project, 1)
    rita = reviewer(project)
    flip = decisions.review_decide(
        project=project, pair_id=pair.pk, action="flip", reviewer=rita, reason="B is right"
    )
    assert (flip.label_before, flip.label_after, flip.source_before) == ("a", "b", "imported")
    assert label_of(project, pair) == ("b", "review")
    decisions.review_decide(project=project, pair_id=pair.pk, action="tie", reviewer=rita)
    assert label_of(project, pair) == ("tie", "review")

    undo = decisions.review_undo(project=project, pair_id=pair.pk, reviewer=rita)
    assert undo.action == "undo" and undo.undoes_id is not None
    assert (undo.label_before, undo.label_after) == ("tie", "b")
    assert label_of(project, pair) == ("b", "review")
    # the second undo takes back the flip, not the first undo
    second = decisions.review_undo(project=project, pair_id=pair.pk, reviewer=rita)
    assert second.undoes_id == flip.pk
    assert label_of(project, pair) == ("a", "imported")
    with pytest.raises(decisions.ReviewError, match="nothing to undo"):
        decisions.review_undo(project=project, pair_id=pair.pk, reviewer=rita)
    # four decisions kept in order; the one in force is the newest
    actions = list(ReviewDecision.objects.filter(pair=pair).order_by("id").values_list("action"))
    assert actions == [("flip",), ("tie",), ("undo",), ("undo",)]
    assert PairReview.objects.get(pair=pair).decision_id == second.pk


def test_a_flip_needs_an_a_or_b_label_and_the_log_refuses_updates(project: Any) -> None:
    (pair,) = make_pairs(project, 1)
    rita = reviewer(project)
    decisions.review_decide(project=project, pair_id=pair.pk, action="tie", reviewer=rita)
    with pytest.raises(decisions.ReviewError, match="flip"):
        decisions.review_decide(project=project, pair_id=pair.pk, action="flip", reviewer=rita)
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ReviewDecision.objects.filter(pair=pair).update(reason="rewritten")


def test_undoing_more_votes_takes_back_the_votes_nobody_gave_yet(project: Any) -> None:
    from webapp.labelling.models import QueueItem

    (pair,) = make_pairs(project, 1)
    rita = reviewer(project)

    def wanted() -> tuple[int, int, int]:
        item = QueueItem.objects.get(pair=pair)
        return item.wanted, item.votes, item.leases

    first = annotator(project, "ann1")
    assignment = lease(project, first)
    assert assignment is not None
    vote(project, first, assignment, side="left")
    base, votes, _ = wanted()
    assert votes == 1
    decisions.review_decide(
        project=project, pair_id=pair.pk, action="more_votes", reviewer=rita, votes=4
    )
    assert wanted()[0] == base + 4
    # one of the extra votes is being given while the reviewer changes their mind
    assert lease(project, annotator(project, "ann2")) is not None
    decisions.review_undo(project=project, pair_id=pair.pk, reviewer=rita)
    assert wanted() == (base, 1, 1)

    # asked again with more votes than the pair had wanted: the leased one is not refused
    decisions.review_decide(
        project=project, pair_id=pair.pk, action="more_votes", reviewer=rita, votes=1
    )
    assert wanted()[0] == base + 1
    decisions.review_undo(project=project, pair_id=pair.pk, reviewer=rita)
    assert wanted()[0] == max(base, 2)  # one vote given, one leased
