"""The API applies the pages' checks: a token is needed, someone else's project or object is a
404, annotators never see labels, pairs or exports, and only admins start or cancel work."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import client_for
from tests.exports.helpers import make_pairs
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write
from webapp.jobs.services import job_create


def _paths(project: Any, snapshot: Any, pair: Any, job: Any) -> list[str]:
    return [
        "/api/projects/",
        f"/api/projects/{project.pk}/",
        f"/api/projects/{project.pk}/pairs/",
        f"/api/projects/{project.pk}/pairs/{pair.pk}/",
        f"/api/projects/{project.pk}/exports/",
        f"/api/projects/{project.pk}/jobs/",
        f"/api/exports/{snapshot.pk}/",
        f"/api/exports/{snapshot.pk}/files/README.md",
        f"/api/jobs/{job.pk}/",
    ]


@pytest.fixture
def objects(project: Any) -> tuple[Any, Any, Any]:
    made = make_pairs(project, 4)
    snapshot = export_write(
        snapshot=export_create(
            project=project, file_format="jsonl", spec=ExportSpec(), enqueue=False
        )
    )
    job = job_create(kind="export", project=project, params={}, enqueue=False)
    return made.pairs[0], snapshot, job


def test_anonymous_requests_get_401_as_json(project: Any, objects: Any) -> None:
    pair, snapshot, job = objects
    client = APIClient()
    for path in _paths(project, snapshot, pair, job):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "not_authenticated"
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get("/api/projects/").status_code == 401


def test_a_stranger_gets_404_for_every_object_of_the_project(
    project: Any, objects: Any, other_project: Any
) -> None:
    pair, snapshot, job = objects
    stranger = client_for(other_project.memberships.get().user)
    for path in _paths(project, snapshot, pair, job)[1:]:
        response = stranger.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["status"] == 404
    assert [p["name"] for p in stranger.get("/api/projects/").json()] == ["Someone else's"]
    assert stranger.post(f"/api/jobs/{job.pk}/cancel/").status_code == 404
    body = {"file_format": "jsonl"}
    assert (
        stranger.post(f"/api/projects/{project.pk}/exports/", body, format="json").status_code
        == 404
    )


def test_an_annotator_sees_no_labels_pairs_or_exports(
    project: Any, objects: Any, annotator: Any
) -> None:
    pair, snapshot, job = objects
    client = client_for(annotator)
    detail = client.get(f"/api/projects/{project.pk}/").json()
    assert detail["role"] == "annotator"
    assert detail["pairs_by_label"] is None
    assert detail["pairs"] == 4
    for path in _paths(project, snapshot, pair, job)[2:8]:
        assert client.get(path).status_code == 404, path
    body = {"file_format": "parquet"}
    assert (
        client.post(f"/api/projects/{project.pk}/exports/", body, format="json").status_code == 404
    )
    assert client.post(f"/api/jobs/{job.pk}/cancel/").status_code == 404


def test_a_reviewer_reads_pairs_and_exports_but_cannot_start_one(
    project: Any, objects: Any, reviewer: Any
) -> None:
    pair, snapshot, _ = objects
    client = client_for(reviewer)
    pairs = client.get(f"/api/projects/{project.pk}/pairs/").json()
    assert {p["id"] for p in pairs["results"]} >= {pair.pk}
    assert "imported_label" in pairs["results"][0]
    assert client.get(f"/api/exports/{snapshot.pk}/files/README.md").status_code == 200
    body = {"file_format": "parquet"}
    assert (
        client.post(f"/api/projects/{project.pk}/exports/", body, format="json").status_code == 404
    )
