"""Ambiguity-driven votes: with the setting on, a scoring run asks for more votes on its most
ambiguous or disputed pairs, which the labelling queue then serves first; the page says how
many votes were asked and what they changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils.html import escape

from tests.labelling.helpers import annotator, lease
from tests.review.helpers import reviewer, scored_flagged_pairs
from webapp.labelling.models import QueueItem, Vote
from webapp.review import ambiguity, decisions, queue
from webapp.review.models import AmbiguityRequest

pytestmark = pytest.mark.django_db


def test_the_most_ambiguous_pairs_get_more_votes_first(client: Any, project: Any) -> None:
    run, pairs = scored_flagged_pairs(project, [3.0, 0.01, -2.0, 0.3, 1.0])
    # everyone has voted as wanted: nothing is open before the request
    QueueItem.objects.filter(project=project).update(votes=3)
    ambiguity.review_settings_update(
        project=project, ambiguity_votes=True, ambiguity_pairs=2, ambiguity_extra_votes=2
    )
    assert project.queue_order == "most_ambiguous"
    request = ambiguity.ambiguity_votes_request(run_id=run.pk)
    assert request is not None and (request.n_pairs, request.votes_asked) == (2, 4)
    # asked once per run
    assert ambiguity.ambiguity_votes_request(run_id=run.pk) == request
    assert AmbiguityRequest.objects.count() == 1
    wanted = dict(QueueItem.objects.filter(project=project).values_list("pair_id", "wanted"))
    assert wanted[pairs[1].pk] == wanted[pairs[3].pk] == 5
    assert wanted[pairs[0].pk] == wanted[pairs[2].pk] == 3
    # the labelling queue serves the most ambiguous (|mu| = 0.01) first
    ann = annotator(project, "ann")
    first = lease(project, ann)
    assert first is not None and first.pair_id == pairs[1].pk
    Vote.objects.create(pair=pairs[1], annotator=ann, choice="b")
    outcome = ambiguity.ambiguity_outcomes(project=project)[0]
    assert (outcome.votes_received, outcome.pairs_with_new_votes, outcome.labels_changed) == (
        1, 1, 1,
    )  # fmt: skip
    client.force_login(reviewer(project))
    page = client.get(f"/projects/{project.pk}/review/dashboard/")
    assert page.status_code == 200 and "Extra votes asked" in page.content.decode()


def test_every_dashboard_chart_answers(client: Any, project: Any) -> None:
    _, pairs = scored_flagged_pairs(project, [-3.0, 0.01, -1.0, 2.0])
    queue.review_queue_rebuild(project=project)
    rita = reviewer(project)
    decisions.review_decide(project=project, pair_id=pairs[0].pk, action="flip", reviewer=rita)
    client.force_login(rita)
    from webapp.review.dashboards import CHARTS

    for name, chart in CHARTS.items():
        page = client.get(f"/projects/{project.pk}/review/dashboard/{name}/")
        assert page.status_code == 200, name
        assert escape(chart.caption) in page.content.decode()
    fig = CHARTS["label-agreement"].build(project=project)
    assert fig is not None
    now = fig["data"][1]["y"]
    at_run = fig["data"][0]["y"]
    assert now != at_run  # the flip of a negative-mu pair made its label agree with mu
