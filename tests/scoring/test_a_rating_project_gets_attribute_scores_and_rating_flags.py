"""A rating project's scoring run fits one head per attribute on the real MiniLM: responses
get predicted scores per attribute, a planted wild rating and a planted overall contradiction
are flagged on their derived pairs, and an attribute rated at random is named unpredictable."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.urls import reverse

from tests.labelling.helpers import annotator
from webapp.flags.models import Flag
from webapp.labelling.items import AnswerRow, item_answers_store
from webapp.pairs.models import Item, ItemResponse, Prompt, Response
from webapp.projects.services import project_create
from webapp.scoring.attributes import attribute_scores_fit
from webapp.scoring.models import AttributeScore, ScoringRun
from webapp.scoring.services import ScoringOptions, scoring_run_create

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

TOPICS = ["tides", "volcanoes", "rainbows", "magnets", "yeast", "glaciers", "comets", "bees"]
LEVELS = [
    "I don't know.",
    "Maybe something about {t}, not sure.",
    "{t} is a thing people talk about sometimes.",
    "{t} work like this: a few parts act together, and here is how they connect.",
    "Great question! {t} work like this: first the parts, then how they interact, with a "
    "worked example you can try at home and a tip to remember it.",
]
SETTINGS = {
    "attributes": [
        {"name": "helpfulness", "low": 0, "high": 4},
        {"name": "correctness", "low": 0, "high": 4},
        {"name": "noise", "low": 0, "high": 4},
    ],
    "overall": {"helpfulness": 1},
}
N_ITEMS, K = 40, 3


def make_rated_items(project: Any, rng: np.random.Generator) -> tuple[list[Item], np.ndarray]:
    levels = np.array([rng.permutation(5)[:K] for _ in range(N_ITEMS)])
    prompts = Prompt.objects.bulk_create(
        [
            Prompt(content_hash=rng.bytes(16), text=f"Explain {TOPICS[i % 8]} #{i}")
            for i in range(N_ITEMS)
        ]
    )
    responses = Response.objects.bulk_create(
        [
            Response(
                content_hash=rng.bytes(16), text=LEVELS[q].format(t=TOPICS[i % 8].capitalize())
            )
            for i in range(N_ITEMS)
            for q in levels[i]
        ]
    )
    items = Item.objects.bulk_create(
        [Item(project=project, prompt=prompts[i], dedup_key=rng.bytes(16)) for i in range(N_ITEMS)]
    )
    ItemResponse.objects.bulk_create(
        [
            ItemResponse(item=items[i], position=p, response=responses[i * K + p])
            for i in range(N_ITEMS)
            for p in range(K)
        ]
    )
    return items, levels


def test_attribute_heads_score_every_response_and_raise_the_rating_flags(
    admin_user: Any, admin_client: Any
) -> None:
    rng = np.random.default_rng(0)
    project = project_create(
        name="rated", label_scheme="rating", scheme_settings=SETTINGS, created_by=admin_user
    )
    items, levels = make_rated_items(project, rng)
    ann, bob = annotator(project, "ann"), annotator(project, "bob")
    answers = []
    for i, item in enumerate(items):
        for user in (ann, bob):
            ratings = {
                str(p): {
                    "helpfulness": int(q), "correctness": int(q), "noise": int(rng.integers(0, 5))
                }
                for p, q in enumerate(levels[i])
            }  # fmt: skip
            answers.append(AnswerRow(item.pk, user.pk, "rating", {"ratings": ratings}))
    # planted: bob rates the best response of item 0 as useless
    best = int(np.argmax(levels[0]))
    answers[1].payload["ratings"][str(best)]["helpfulness"] = 0
    # planted: in item 1 both annotators rate the worse response higher on helpfulness (the
    # overall) while it is worse on correctness: their overall pair contradicts
    lo, hi = (int(p) for p in np.argsort(levels[1])[:2])
    for row in answers[2:4]:
        row.payload["ratings"][str(lo)].update(helpfulness=4, correctness=0, noise=0)
        row.payload["ratings"][str(hi)].update(helpfulness=1, correctness=3, noise=4)
    item_answers_store(project=project, answers=answers)
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
