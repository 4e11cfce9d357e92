"""A rating project's scoring run fits one head per attribute on the real MiniLM: responses
get predicted scores per attribute, a planted wild rating and a planted overall contradiction
are flagged on their derived pairs, and an attribute rated at random is named unpredictable."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.urls import reverse

from tests.scoring.rated import N_ITEMS, K, rated_project
from webapp.flags.models import Flag
from webapp.scoring.attributes import attribute_scores_fit
from webapp.scoring.models import AttributeScore, ScoringRun
from webapp.scoring.services import ScoringOptions, scoring_run_create

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_attribute_heads_score_every_response_and_raise_the_rating_flags(
    admin_user: Any, admin_client: Any
) -> None:
    rated = rated_project(admin_user)
    project, items, levels, bob = rated.project, rated.items, rated.levels, rated.bob
    best, lo, hi = rated.best, rated.lo, rated.hi
    run = scoring_run_create(project=project, options=ScoringOptions(max_length=64))

    summary = attribute_scores_fit(run=run)

    fits = {f["name"]: f for f in summary["attributes"]}
    assert fits["helpfulness"]["predictable"] and fits["helpfulness"]["spearman"] > 0.7
    assert not fits["noise"]["predictable"]
    assert summary["unpredictable"] == ["noise"]
    scores = AttributeScore.objects.filter(run=run)
    assert scores.count() == N_ITEMS * K * 3
    top = scores.get(item=items[2], position=int(np.argmax(levels[2])), attribute="helpfulness")
    low = scores.get(item=items[2], position=int(np.argmin(levels[2])), attribute="helpfulness")
    assert top.predicted > low.predicted and top.rating == levels[2].max()

    # bob's wild rating in item 0, and item 1's planted ratings, which go against the texts
    # as much (both annotators gave them); nothing else, and never the noise attribute
    far = Flag.objects.filter(scoring_run=run, kind="rating_far").select_related("pair")
    assert {f.pair.item_id for f in far} == {items[0].pk, items[1].pk}
    assert {f.pair.attribute for f in far} <= {"helpfulness", "correctness"}
    in_item_0 = [f for f in far if f.pair.item_id == items[0].pk]
    assert {f.pair.attribute for f in in_item_0} == {"helpfulness"}
    assert all(best in f.pair.metadata["positions"] for f in in_item_0)
    assert {f.details["annotator"] for f in in_item_0} == {bob.pk}
    assert {f.details["position"] for f in in_item_0} == {best}
    contradicting = Flag.objects.get(scoring_run=run, kind="overall_contradicts")
    assert contradicting.pair.item_id == items[1].pk and contradicting.pair.attribute == ""
    assert sorted(contradicting.pair.metadata["positions"]) == sorted([lo, hi])
    assert contradicting.source == "attribute_heads"
    run.refresh_from_db()
    assert run.summary["attributes"]["flag_counts"]["overall_contradicts"] == 1

    ScoringRun.objects.filter(pk=run.pk).update(complete=True)
    page = admin_client.get(reverse("scoring:run", args=[run.pk])).content.decode()
    assert 'id="attribute-heads"' in page and 'data-attribute="noise"' in page
    assert page.count('class="flag unpredictable"') == 1

    attribute_scores_fit(run=run)  # again: the same rows and flags, not twice as many
    assert AttributeScore.objects.filter(run=run).count() == N_ITEMS * K * 3
    assert Flag.objects.filter(scoring_run=run, kind="overall_contradicts").count() == 1
