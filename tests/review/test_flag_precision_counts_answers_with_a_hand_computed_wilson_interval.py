"""Flag precision: per kind, the share of answered flagged pairs whose answer says the scored
label was wrong (decisions, gold answers, later votes on imported labels), with a Wilson 95%
interval; an answer from the same evidence as the scored label does not count."""

from __future__ import annotations

from typing import Any

import pytest

from tests.labelling.helpers import annotator
from tests.review.helpers import reviewer, scored_flagged_pairs
from webapp.labelling.models import GoldAnswer, Vote
from webapp.review.answers import flag_precision, run_answers, wilson
from webapp.review.decisions import review_decide
from webapp.scoring.models import PairScore

pytestmark = pytest.mark.django_db

KINDS = ["likely_mislabelled"] * 5 + ["ambiguous", "unstable", "unstable"]


def test_precision_per_kind_by_hand(project: Any) -> None:
    run, pairs = scored_flagged_pairs(project, [-3, -2, -1, -0.5, -0.4, 0.02, 2, 3], kinds=KINDS)
    # pair 4 was scored with a reviewer's label, pair 7 with its votes' majority: their
    # decision and votes answer nothing about the run's label
    PairScore.objects.filter(run=run, pair=pairs[4]).update(label_source="review")
    PairScore.objects.filter(run=run, pair=pairs[7]).update(label_source="votes")
    rita = reviewer(project)
    for pair, action in zip(pairs[:5], ["flip", "flip", "keep", "tie", "keep"], strict=True):
        review_decide(project=project, pair_id=pair.pk, action=action, reviewer=rita)
    GoldAnswer.objects.create(pair=pairs[5], project=project, choice="a")  # the label: right
    for name in ("ann", "bob", "cy"):  # two of three against label a: decisive
        voter = annotator(project, name)
        for pair in (pairs[6], pairs[7]):
            Vote.objects.create(pair=pair, annotator=voter, choice="a" if name == "cy" else "b")

    answers = run_answers(run_id=run.pk)
    assert dict(zip(answers.pair_ids.tolist(), answers.wrong.tolist(), strict=True)) == {
        pairs[0].pk: True, pairs[1].pk: True, pairs[2].pk: False, pairs[3].pk: True,
        pairs[5].pk: False, pairs[6].pk: True,
    }  # fmt: skip
    assert answers.by_source == {"review": 4, "gold": 1, "votes": 1}

    by_kind = {p.kind: p for p in flag_precision(project_id=project.pk, run_id=run.pk)}
    mislabelled = by_kind["likely_mislabelled"]
    assert (mislabelled.flagged, mislabelled.answered, mislabelled.confirmed) == (5, 4, 3)
    assert mislabelled.share == 0.75
    # Wilson, z = 1.96, 3 of 4: centre (0.75 + z^2/8) / (1 + z^2/4) = 1.23020 / 1.96040 =
    # 0.62753; half-width z * sqrt(0.75 * 0.25 / 4 + z^2/64) / 1.96040 = 0.32689
    assert mislabelled.low == pytest.approx(0.3006, abs=1e-3)
    assert mislabelled.high == pytest.approx(0.9544, abs=1e-3)
    ambiguous = by_kind["ambiguous"]
    assert (ambiguous.answered, ambiguous.confirmed) == (1, 0)
    # 0 of 1: centre and half-width both (z^2/2) / (1 + z^2) = 1.92080 / 4.84160 = 0.39673
    assert (ambiguous.low, ambiguous.high) == (pytest.approx(0.0, abs=1e-9),
                                              pytest.approx(0.7935, abs=1e-3))  # fmt: skip
    unstable = by_kind["unstable"]
    assert (unstable.flagged, unstable.answered, unstable.confirmed) == (2, 1, 1)
    assert wilson(0, 0) == (None, None)
