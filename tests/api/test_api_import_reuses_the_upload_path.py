"""An upload through the API makes the same ImportBatch and import job as the upload page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from webapp.imports.models import ImportBatch
from webapp.jobs.models import Job

DATA = Path(__file__).resolve().parent.parent / "imports" / "data" / "hh-rlhf-sample.jsonl"


def test_an_upload_creates_a_queued_import_job(api_admin: Any, project: Any) -> None:
    upload = SimpleUploadedFile("../../evil name.jsonl", DATA.read_bytes())
    response = api_admin.post(
        f"/api/projects/{project.pk}/imports/",
        {"file": upload, "fmt": "hh", "split": "test"},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    batch = ImportBatch.objects.get(pk=body["import_batch"]["id"])
    assert batch.job_id == body["job"]["id"]
    assert (batch.fmt, batch.default_split, batch.file_name) == ("hh", "test", "evil_name.jsonl")
    assert Path(batch.stored_path).read_bytes() == DATA.read_bytes()
    assert Job.objects.get(pk=batch.job_id).kind == "import"
    report = api_admin.get(f"/api/imports/{batch.pk}/")
    assert report.status_code == 200 and report.json()["status"] == "pending"


def test_a_file_of_the_wrong_type_is_refused(api_admin: Any, project: Any) -> None:
    upload = SimpleUploadedFile("notes.txt", b"hello")
    response = api_admin.post(
        f"/api/projects/{project.pk}/imports/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("file:")
    assert not ImportBatch.objects.exists()
