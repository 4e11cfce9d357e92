"""Errors come back as JSON with one shape and a message that says what is wrong."""

from __future__ import annotations

from typing import Any


def test_an_unknown_endpoint_is_a_json_404(api_admin: Any) -> None:
    response = api_admin.get("/api/no/such/thing/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"status": 404, "code": "not_found", "message": "No such API endpoint"}
    }


def test_a_bad_export_request_names_the_field(api_admin: Any, project: Any) -> None:
    response = api_admin.post(
        f"/api/projects/{project.pk}/exports/", {"file_format": "xlsx"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"].startswith("file_format:")
    assert "file_format" in error["fields"]


def test_reviewed_only_is_refused_while_no_review_exists(api_admin: Any, project: Any) -> None:
    response = api_admin.post(
        f"/api/projects/{project.pk}/exports/",
        {"file_format": "jsonl", "reviewed_only": True},
        format="json",
    )
    assert response.status_code == 400
    assert "no review decisions" in response.json()["error"]["message"]


def test_a_huge_id_is_a_404_not_a_database_error(api_admin: Any) -> None:
    assert api_admin.get("/api/projects/99999999999999999999999/").status_code == 404
    assert api_admin.get("/api/jobs/9223372036854775807/").status_code == 404
