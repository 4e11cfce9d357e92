"""Through the API and a real Celery worker: start an export, follow its job to the end,
download a file and load it; a cancelled export leaves no files and says so."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from rest_framework.test import APIClient

from tests.api.conftest import client_for
from tests.conftest import wait_until
from tests.exports.helpers import make_pairs
from webapp.exports.models import ExportSnapshot
from webapp.jobs.models import Job

pytestmark = pytest.mark.slow


@pytest.fixture
def api(celery_worker: Any, project: Any, admin_user: Any) -> APIClient:
    return client_for(admin_user)


def test_an_export_job_runs_on_a_worker_and_its_file_downloads(
    api: APIClient, project: Any
) -> None:
    made = make_pairs(project, 10)
    started = api.post(
        f"/api/projects/{project.pk}/exports/",
        {"file_format": "parquet", "style": "conversational"},
        format="json",
    )
    assert started.status_code == 202, started.json()
    job_id = started.json()["job"]["id"]

    def finished() -> Any:
        body = api.get(f"/api/jobs/{job_id}/").json()
        return body if body["status"] in ("succeeded", "failed", "cancelled") else None

    job = wait_until(finished, timeout=60)
    assert job["status"] == "succeeded", job
    snapshot_id = started.json()["export"]["id"]
    assert job["result"]["url"] == f"/exports/{snapshot_id}/"
    export = api.get(f"/api/exports/{snapshot_id}/").json()
    assert export["status"] == "ready" and export["version"] == 1
    train = next(f for f in export["files"] if f["name"] == "train.parquet")
    response = api.get(train["url"])
    assert response.status_code == 200
    table = pq.read_table(io.BytesIO(b"".join(response.streaming_content)))
    expected = sum(
        1 for e in made.expected.values() if e["label"] in ("a", "b") and e["split"] == "train"
    )
    assert table.num_rows == train["rows"] == expected
    page = api.get(f"/exports/{snapshot_id}/")  # the token does not log in to pages
    assert page.status_code == 302


def test_a_cancelled_export_writes_nothing(api: APIClient, project: Any) -> None:
    make_pairs(project, 4)
    started = api.post(
        f"/api/projects/{project.pk}/exports/", {"file_format": "jsonl"}, format="json"
    ).json()
    api.post(f"/api/jobs/{started['job']['id']}/cancel/")

    def ended() -> Any:
        snapshot = ExportSnapshot.objects.get(pk=started["export"]["id"])
        return snapshot if snapshot.status in ("ready", "failed") else None

    snapshot = wait_until(ended, timeout=60)
    job = Job.objects.get(pk=started["job"]["id"])
    if job.status == Job.Status.CANCELLED:  # the usual case: cancelled before the worker ran it
        assert snapshot.status == "failed"
        assert not Path(snapshot.directory).exists()
    else:  # the worker was quicker than the cancel
        assert snapshot.status == "ready"
