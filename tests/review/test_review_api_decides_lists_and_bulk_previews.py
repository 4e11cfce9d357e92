"""The review decisions API: create (and undo), list per project and per pair, bulk with a
preview; annotators and strangers get a 404, bad requests a JSON error naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import client_for
from tests.labelling.helpers import annotator
from tests.review.helpers import reviewer, scored_flagged_pairs
from webapp.review.queue import review_queue_rebuild

pytestmark = pytest.mark.django_db


def test_decide_list_undo_and_bulk(project: Any) -> None:
    _, pairs = scored_flagged_pairs(project, [-3.0, -2.5, 0.01])
    review_queue_rebuild(project=project)
    api = client_for(reviewer(project))
    base = f"/api/projects/{project.pk}"
    made = api.post(f"{base}/review/decisions/", {"pair": pairs[0].pk, "action": "flip"},
                    format="json")  # fmt: skip
    assert made.status_code == 201, made.json()
    assert made.json()["label_after"] == "b" and made.json()["reviewer"] == "rita"
    bad = api.post(f"{base}/review/decisions/",
                   {"pair": pairs[0].pk, "action": "more_votes", "votes": 21},
                   format="json")  # fmt: skip
    assert bad.status_code == 400 and "votes" in bad.json()["error"]["fields"]
    undo = api.post(f"{base}/review/decisions/", {"pair": pairs[0].pk, "action": "undo"},
                    format="json")  # fmt: skip
    assert undo.status_code == 201 and undo.json()["undoes"] == made.json()["id"]
    listed = api.get(f"{base}/pairs/{pairs[0].pk}/decisions/").json()["results"]
    assert [d["action"] for d in listed] == ["undo", "flip"]

    body = {"filter": {"kind": "likely_mislabelled"}, "action": "drop"}
    preview = api.post(f"{base}/review/bulk/", body, format="json")
    assert preview.status_code == 200 and preview.json()["count"] == 2
    assert len(api.get(f"{base}/review/decisions/").json()["results"]) == 2  # nothing yet
    done = api.post(f"{base}/review/bulk/", {**body, "confirm": True}, format="json")
    assert done.status_code == 201 and done.json()["count"] == 2
    assert len(api.get(f"{base}/review/decisions/").json()["results"]) == 4
    wrong = api.post(f"{base}/review/bulk/", {"filter": {"state": "nope"}, "action": "drop"},
                     format="json")  # fmt: skip
    assert wrong.status_code == 400 and "state" in wrong.json()["error"]["message"]
    # "more votes" without a number asks for the review page's default; a decision the pair's
    # state refuses is a 409, one on a pair not in the project a 404
    more = api.post(f"{base}/review/decisions/", {"pair": pairs[2].pk, "action": "more_votes"},
                    format="json")  # fmt: skip
    assert more.status_code == 201 and more.json()["votes_requested"] == 2
    for pair_id, action, refused in ((pairs[1].pk, "flip", 409), (10**15, "undo", 404)):
        answer = api.post(f"{base}/review/decisions/", {"pair": pair_id, "action": action},
                          format="json")  # fmt: skip
        assert answer.status_code == refused, answer.json()


def test_annotators_cannot_review(project: Any) -> None:
    _, pairs = scored_flagged_pairs(project, [-3.0])
    api = client_for(annotator(project, "ann", login=True))
    response = api.post(f"/api/projects/{project.pk}/review/decisions/",
                        {"pair": pairs[0].pk, "action": "keep"}, format="json")  # fmt: skip
    assert response.status_code == 404
