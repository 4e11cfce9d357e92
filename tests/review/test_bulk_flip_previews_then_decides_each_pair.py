"""A bulk action on a filter: the preview counts what the action would decide, the apply
writes one decision per pair in one statement, and a second run of it decides nothing more."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.labelling.helpers import annotator
from tests.review.helpers import reviewer, scored_flagged_pairs
from webapp.labelling.models import QueueItem, Vote
from webapp.pairs.labels import effective_labels
from webapp.review.decisions import ReviewError, review_bulk_apply, review_bulk_preview
from webapp.review.filters import QueueFilter
from webapp.review.models import ReviewDecision
from webapp.review.queue import review_queue_rebuild

pytestmark = pytest.mark.django_db


def test_flip_pairs_with_very_negative_mu_whose_votes_disagree(project: Any) -> None:
    _, pairs = scored_flagged_pairs(project, [-3.0, -2.5, -2.2, -1.0, 0.0, 1.5])
    review_queue_rebuild(project=project)
    voters = [annotator(project, f"v{i}") for i in range(2)]
    # human votes against the imported (and scored) label "a" on the first two pairs only;
    # the third pair's votes agree with the label
    Vote.objects.bulk_create(
        [Vote(pair=p, annotator=u, choice="b") for p in pairs[:2] for u in voters]
        + [Vote(pair=pairs[2], annotator=u, choice="a") for u in voters]
    )
    rita = reviewer(project)
    wanted = QueueFilter(mu_max=-2.0, votes_disagree=True)
    assert review_bulk_preview(project=project, queue_filter=wanted, action="flip") == 2
    with CaptureQueriesContext(connection) as queries:
        bulk = review_bulk_apply(
            project=project, queue_filter=wanted, action="flip", reviewer=rita, reason="votes"
        )
    inserts = [q for q in queries if "INSERT INTO review_reviewdecision" in q["sql"]]
    assert len(inserts) == 1 and bulk.n_pairs == 2
    labels = effective_labels(project=project)
    # the votes already said B: the flip is of the effective label "b", back to A? No: the
    # effective label before was the votes' "b", so a flip makes it "a"
    decisions = {d.pair_id: d for d in ReviewDecision.objects.filter(bulk=bulk)}
    assert set(decisions) == {pairs[0].pk, pairs[1].pk}
    for pair in pairs[:2]:
        d = decisions[pair.pk]
        assert (d.label_before, d.source_before) == ("b", "votes")
        assert labels[pair.pk].label == d.label_after == "a"
        assert d.flag_kind == "likely_mislabelled" and d.scoring_run_id is not None
    assert review_bulk_preview(project=project, queue_filter=wanted, action="flip") == 0


def test_bulk_send_back_raises_wanted_votes(project: Any) -> None:
    _, pairs = scored_flagged_pairs(project, [-3.0, 0.01, 0.02])
    review_queue_rebuild(project=project)
    rita = reviewer(project)
    ambiguous = QueueFilter(kind="ambiguous")
    bulk = review_bulk_apply(
        project=project, queue_filter=ambiguous, action="more_votes", reviewer=rita, votes=2
    )
    assert bulk.n_pairs == 2
    wanted = dict(QueueItem.objects.filter(project=project).values_list("pair_id", "wanted"))
    assert wanted[pairs[0].pk] == 3 and wanted[pairs[1].pk] == wanted[pairs[2].pk] == 5
    with pytest.raises(ReviewError, match="more votes"):
        review_bulk_apply(
            project=project, queue_filter=ambiguous, action="more_votes", reviewer=rita, votes=0
        )
