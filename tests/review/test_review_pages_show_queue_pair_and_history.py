"""The review pages: the queue in its severity order with its filters, a pair's review page with
everything a reviewer needs in a fixed number of queries, a decision that moves on to the next
pair, and the history page listing it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.labelling.helpers import annotator
from tests.review.helpers import in_severity_order, reviewer, scored_flagged_pairs
from webapp.review import queue
from webapp.review.models import ReviewDecision

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(project: Any) -> list[Any]:
    _, pairs = scored_flagged_pairs(project, [-3.0, 0.05, -1.0, 2.0])
    in_severity_order(project)
    queue.review_queue_rebuild(project=project)
    return pairs


def test_queue_lists_most_severe_first_and_filters(
    client: Any, project: Any, flagged: list
) -> None:
    client.force_login(reviewer(project))
    page = client.get(f"/projects/{project.pk}/review/")
    assert page.status_code == 200
    order = [row.pair_id for row in page.context["rows"]]
    # mislabelled (severity 5) by mu, then ambiguous (1) by mu
    assert order == [flagged[0].pk, flagged[2].pk, flagged[1].pk, flagged[3].pk]
    page = client.get(f"/projects/{project.pk}/review/?kind=ambiguous&mu_max=1")
    assert [r.pair_id for r in page.context["rows"]] == [flagged[1].pk]
    page = client.get(f"/projects/{project.pk}/review/?mu_min=oops")
    assert "mu_min" in page.context["error"]


def test_annotators_never_see_the_review_pages(client: Any, project: Any, flagged: list) -> None:
    client.force_login(annotator(project, "ann"))
    assert client.get(f"/projects/{project.pk}/review/").status_code == 404
    assert client.get(f"/projects/{project.pk}/review/pairs/{flagged[0].pk}/").status_code == 404


def test_pair_page_decision_and_history(client: Any, project: Any, flagged: list) -> None:
    rita = reviewer(project)
    client.force_login(rita)
    url = f"/projects/{project.pk}/review/pairs/{flagged[0].pk}/"
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    assert len(queries) <= 20, [q["sql"][:80] for q in queries]
    body = page.content.decode()
    assert "Likely mislabelled" in body and "margins-data" in body
    response = client.post(url, {"action": "flip", "reason": "B answers it"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/review/pairs/{flagged[2].pk}/")
    decision = ReviewDecision.objects.get(pair=flagged[0])
    assert (decision.action, decision.label_after, decision.flag_kind) == (
        "flip", "b", "likely_mislabelled",
    )  # fmt: skip
    history = client.get(f"/projects/{project.pk}/pairs/{flagged[0].pk}/history/")
    text = history.content.decode()
    assert "Imported with label a" in text and "Flip the label" in text and "B answers it" in text
    assert text.index("Imported") < text.index("Scored by run") < text.index("Flip the label")
