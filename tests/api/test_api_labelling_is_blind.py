"""Annotators label through the API as on the page: blind (sides, never A/B, labels, models
or others' votes), and the vote lands on the right response whichever side it was shown on."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import client_for
from tests.exports.helpers import add_votes, make_pairs
from webapp.labelling.models import Vote

SECRET_KEYS = {
    "imported_label",
    "label",
    "response_a",
    "response_b",
    "model_a",
    "model_b",
    "votes",
    "pair",
    "pair_id",
    "shown_order",
}


def test_an_annotator_gets_a_blind_pair_and_votes_on_it(project: Any, annotator: Any) -> None:
    made = make_pairs(project, 3, conversations=False)
    add_votes(made.pairs[0], ["b", "b"])
    client = client_for(annotator)
    served = client.post(f"/api/projects/{project.pk}/assignments/next/")
    assert served.status_code == 200
    body = served.json()
    assert not SECRET_KEYS & set(body)
    assert set(body) == {
        "token",
        "round",
        "expires_at",
        "prompt",
        "conversation",
        "left",
        "right",
        "strength_scale",
        "strength_required",
    }
    # the same lease comes back until it is voted on
    again = client.post(f"/api/projects/{project.pk}/assignments/next/").json()
    assert again["token"] == body["token"]

    vote = {"token": body["token"], "round": body["round"], "choice": "left", "strength": 1}
    stored = client.post(f"/api/projects/{project.pk}/votes/", vote, format="json")
    assert stored.status_code == 201, stored.json()
    assert stored.json()["status"] == "stored"
    saved = Vote.objects.get(annotator=annotator)
    left_text = body["left"]
    chosen = saved.pair.response_a if saved.choice == "a" else saved.pair.response_b
    assert chosen.text == left_text
    # a retried request stores nothing more
    retry = client.post(f"/api/projects/{project.pk}/votes/", vote, format="json")
    assert retry.status_code == 200 and retry.json()["status"] == "duplicate"
    assert Vote.objects.filter(annotator=annotator).count() == 1


def test_a_vote_needs_a_strength_and_a_lease_of_ones_own(project: Any, annotator: Any) -> None:
    make_pairs(project, 2, conversations=False)
    client = client_for(annotator)
    body = client.post(f"/api/projects/{project.pk}/assignments/next/").json()
    vote = {"token": body["token"], "round": body["round"], "choice": "right"}
    missing = client.post(f"/api/projects/{project.pk}/votes/", vote, format="json")
    assert missing.status_code == 400
    assert "strength" in missing.json()["error"]["message"]
    someone = client_for(project.memberships.get(role="admin").user)
    stolen = someone.post(
        f"/api/projects/{project.pk}/votes/", {**vote, "strength": 0}, format="json"
    )
    assert stolen.status_code == 404
