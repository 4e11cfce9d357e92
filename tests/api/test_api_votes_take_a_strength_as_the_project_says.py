"""The vote API takes ``strength`` as the schema says: an index into the assignment's strength
scale, required for an A / B vote only where the project requires it; a bad one is a 400 that
names ``strength``."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import client_for
from tests.exports.helpers import make_pairs
from webapp.labelling.models import Vote
from webapp.projects.models import MAX_STRENGTH_LEVELS


def _lease(client: Any, project: Any) -> dict[str, Any]:
    served = client.post(f"/api/projects/{project.pk}/assignments/next/")
    assert served.status_code == 200
    return dict(served.json())


def _vote(client: Any, project: Any, lease: dict[str, Any], **fields: Any) -> Any:
    body = {"token": lease["token"], "round": lease["round"], **fields}
    return client.post(f"/api/projects/{project.pk}/votes/", body, format="json")


def test_a_required_strength_missing_or_past_the_scale_is_a_400_naming_strength(
    project: Any, annotator: Any
) -> None:
    make_pairs(project, 2, conversations=False)
    client = client_for(annotator)
    lease = _lease(client, project)
    assert lease["strength_scale"] == list(project.strength_scale)
    assert lease["strength_required"] is True
    for fields in ({"choice": "left"}, {"choice": "left", "strength": None}):
        missing = _vote(client, project, lease, **fields).json()["error"]
        assert missing["status"] == 400 and list(missing["fields"]) == ["strength"]
        assert missing["message"].startswith("strength: required")
    past = _vote(client, project, lease, choice="right", strength=len(project.strength_scale))
    error = past.json()["error"]
    assert past.status_code == 400 and list(error["fields"]) == ["strength"]
    assert error["message"] == (
        "strength: must be 0..2, an index into the project's strength scale of 3 levels"
    )
    assert not Vote.objects.exists()
    assert _vote(client, project, lease, choice="right", strength=2).status_code == 201
    assert Vote.objects.get().strength == 2


def test_an_optional_strength_may_be_left_out_of_an_a_b_vote(project: Any, annotator: Any) -> None:
    project.strength_required = False
    project.save()
    make_pairs(project, 3, conversations=False)
    client = client_for(annotator)
    first = _lease(client, project)
    assert first["strength_required"] is False
    assert _vote(client, project, first, choice="left").status_code == 201
    second = _lease(client, project)
    assert _vote(client, project, second, choice="right", strength=1).status_code == 201
    third = _lease(client, project)
    assert _vote(client, project, third, choice="left", strength=9).status_code == 400
    stored = sorted(Vote.objects.values_list("strength", flat=True), key=lambda s: s is None)
    assert stored == [1, None]


def test_the_schema_documents_strength_as_an_index_into_the_scale(api_admin: Any) -> None:
    schema = api_admin.get("/api/schema/?format=json").json()["components"]["schemas"]
    strength = schema["VoteRequestRequest"]["properties"]["strength"]
    assert (strength["minimum"], strength["maximum"]) == (0, MAX_STRENGTH_LEVELS - 1)
    assert strength.get("nullable") is True
    assert "strength" not in schema["VoteRequestRequest"].get("required", [])
    assert "strength_scale" in strength["description"]
    assert "strength_required" in schema["Assignment"]["required"]
