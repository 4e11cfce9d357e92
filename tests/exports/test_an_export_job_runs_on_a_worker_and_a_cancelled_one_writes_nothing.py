"""Through the API and a real Celery worker: start an export, follow its job to the end,
download a file and load it; a cancelled export leaves no files and says so."""

from __future__ import annotations

import io
from typing import Any

import pyarrow.parquet as pq
import pytest
from rest_framework.test import APIClient

from tests.api.conftest import client_for
from tests.conftest import table_locked, wait_until
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


def _work_folders(snapshot: ExportSnapshot) -> list[Any]:
    """The hidden folders an export writes its files in before it renames one into place."""
    return sorted(snapshot.path.parent.glob(f".{snapshot.path.name}.partial-*"))


def test_a_cancelled_export_writes_nothing(api: APIClient, project: Any) -> None:
    made = make_pairs(project, 4)
    exported = sum(1 for e in made.expected.values() if e["label"] in ("a", "b"))
    # The worker counts the rows (and says how many), then waits at its first COPY, which reads
    # the responses, with its work folder made: the cancel comes while it is writing.
    with table_locked("pairs_response"):
        started = api.post(
            f"/api/projects/{project.pk}/exports/", {"file_format": "jsonl"}, format="json"
        ).json()
        job_id = started["job"]["id"]
        wait_until(
            lambda: Job.objects.filter(
                pk=job_id, status=Job.Status.RUNNING, progress_total=exported
            ).exists(),
            timeout=60,
            interval=0.05,
        )
        snapshot = ExportSnapshot.objects.get(pk=started["export"]["id"])
        assert _work_folders(snapshot)
        assert api.post(f"/api/jobs/{job_id}/cancel/").status_code < 300

    def ended() -> Any:
        job = Job.objects.get(pk=job_id)
        return job if job.finished_at is not None else None

    job = wait_until(ended, timeout=60)
    assert job.status == Job.Status.CANCELLED
    snapshot.refresh_from_db()
    assert snapshot.status == ExportSnapshot.Status.FAILED and not snapshot.files
    assert not snapshot.path.exists()
    assert _work_folders(snapshot) == []
