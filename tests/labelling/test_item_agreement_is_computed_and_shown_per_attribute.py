"""A rating project's and a ranking project's answers become an agreement report with alpha
per attribute, Kendall's W and tau, and per-annotator leniency, shown on the agreement page."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.labelling.helpers import annotator, make_items
from webapp.labelling.aggregation import votes_aggregate
from webapp.labelling.items import AnswerRow, item_answers_store
from webapp.projects.services import project_create

pytestmark = pytest.mark.django_db

SETTINGS = {
    "attributes": [
        {"name": "helpfulness", "low": 0, "high": 4},
        {"name": "verbosity", "low": 0, "high": 4},
    ],
    "overall": {"helpfulness": 1},
}


def rating(values: list[tuple[int, int]]) -> dict[str, Any]:
    return {
        "ratings": {str(p): {"helpfulness": h, "verbosity": v} for p, (h, v) in enumerate(values)}
    }


def test_a_rating_project_reports_alpha_per_attribute_and_a_lenient_annotator(
    admin_user: Any, admin_client: Any
) -> None:
    project = project_create(
        name="ratings", label_scheme="rating", scheme_settings=SETTINGS, created_by=admin_user
    )
    items = make_items(project, 12, k=2)
    ann, bob, cat = (annotator(project, n) for n in ("ann", "bob", "cat"))
    answers = []
    for i, item in enumerate(items):
        truth = [(i % 4, (i + 1) % 3), ((i + 2) % 4, i % 2)]
        answers.append(AnswerRow(item.pk, ann.pk, "rating", rating(truth)))
        answers.append(AnswerRow(item.pk, bob.pk, "rating", rating(truth)))
        # cat rates helpfulness one level higher (capped), verbosity as the others do
        lenient = [(min(h + 1, 4), v) for h, v in truth]
        answers.append(AnswerRow(item.pk, cat.pk, "rating", rating(lenient)))
    item_answers_store(project=project, answers=answers)
    report = votes_aggregate(project=project)
    figures = report.data["item_figures"]
    ratings = figures["ratings"]
    assert ratings["n_ratings"] == 12 * 2 * 2 * 3 and ratings["n_annotators"] == 3
    # everyone agrees on verbosity; cat's shift lowers helpfulness' alpha below 1
    assert ratings["attributes"]["verbosity"]["interval"] == pytest.approx(1.0)
    assert 0 < ratings["attributes"]["helpfulness"]["interval"] < 1
    by_name = {a["username"]: a for a in ratings["annotators"]}
    assert by_name["cat"]["leniency"]["lenient"]
    assert not by_name["ann"]["leniency"]["lenient"] and not by_name["bob"]["leniency"]["lenient"]
    # against the others' mean, cat's shift shows at half its size on each of the other two
    # (cat pulls their "others" up): leniency says who differs, and by how much
    shift = by_name["cat"]["leniency"]["mean"]
    assert by_name["ann"]["leniency"]["mean"] == pytest.approx(-shift / 2)
    assert by_name["cat"]["leniency"]["by_attribute"]["verbosity"] == pytest.approx(0.0)
    # the derived pairs' votes, attribute by attribute
    assert set(figures["pair_alpha"]) == {"overall", "helpfulness", "verbosity"}
    assert figures["pair_alpha"]["verbosity"]["alpha"] == pytest.approx(1.0)
    page = admin_client.get(reverse("labelling:agreement", args=[project.pk])).content.decode()
    assert 'id="attribute-alpha"' in page and 'data-attribute="helpfulness"' in page
    assert '<td class="interval">1.000</td>' in page  # verbosity
    assert 'class="flag lenient"' in page and 'data-annotator="cat"' in page


def test_a_ranking_project_reports_kendalls_w_and_tau(admin_user: Any, admin_client: Any) -> None:
    project = project_create(name="ranks", label_scheme="ranking", created_by=admin_user)
    items = make_items(project, 2, k=4)
    ann, bob, cat = (annotator(project, n) for n in ("ann", "bob", "cat"))
    # item 0: the hand-worked case of ranking_agreement's tests, W = 7/9, mean tau 5/9;
    # item 1: everyone agrees, W = 1, tau 1
    orders = {
        ann: ([[0], [1], [2], [3]], [[3], [2], [1], [0]]),
        bob: ([[1], [0], [2], [3]], [[3], [2], [1], [0]]),
        cat: ([[0], [2], [1], [3]], [[3], [2], [1], [0]]),
    }
    item_answers_store(
        project=project,
        answers=[
            AnswerRow(item.pk, user.pk, "ranking", {"tiers": tiers[i]})
            for user, tiers in orders.items()
            for i, item in enumerate(items)
        ],
    )
    report = votes_aggregate(project=project)
    rankings = report.data["item_figures"]["rankings"]
    assert rankings["kendall_w"]["mean"] == pytest.approx((7 / 9 + 1) / 2)
    assert rankings["kendall_w"]["items"] == 2
    assert rankings["kendall_tau"]["mean"] == pytest.approx((5 / 9 * 3 + 3) / 6)
    page = admin_client.get(reverse("labelling:agreement", args=[project.pk])).content.decode()
    assert f'id="kendall-w">{(7 / 9 + 1) / 2:.3f}<' in page
    assert "ann · bob" in page
