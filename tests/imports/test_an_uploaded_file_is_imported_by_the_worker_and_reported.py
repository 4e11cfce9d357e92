"""The upload page hands the file to a real Celery worker; the report names bad lines."""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import wait_until
from tests.factories import MembershipFactory, UserFactory
from webapp.imports.models import ImportBatch
from webapp.jobs.models import Job
from webapp.pairs.models import Pair
from webapp.projects.models import Membership


def _upload(client: Any, project: Any, name: str, body: bytes, **fields: Any) -> Any:
    data = {"file": SimpleUploadedFile(name, body), "fmt": "auto", "split": "train", **fields}
    return client.post(reverse("imports:upload", args=[project.pk]), data)


def test_an_upload_is_imported_by_the_worker_and_reported(
    celery_worker: Any, admin_client: Any, project: Any
) -> None:
    body = (
        json.dumps({"prompt": "<b>p</b>", "chosen": "c", "rejected": "r"}) + "\n"
        + '{"prompt": "p2", "chosen": 3, "rejected": "r"}\n'
    ).encode()  # fmt: skip
    response = _upload(admin_client, project, "../../etc/evil name.jsonl", body)
    assert response.status_code == 302
    job = Job.objects.get()
    assert response.url == reverse("jobs:detail", args=[job.pk])
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    batch = ImportBatch.objects.get(job=job)
    assert batch.file_name == "evil_name.jsonl"
    assert "/etc/" not in batch.stored_path
    assert Pair.objects.filter(project=project).count() == 1
    report = admin_client.get(reverse("imports:report", args=[batch.pk]))
    assert b"evil_name.jsonl" in report.content and b"chosen" in report.content


def test_only_project_admins_may_upload(db: Any, client: Any, project: Any) -> None:
    annotator = UserFactory(username="ann")
    MembershipFactory(project=project, user=annotator, role=Membership.Role.ANNOTATOR)
    client.force_login(annotator)
    response = _upload(client, project, "x.jsonl", b"{}")
    assert response.status_code == 404
    assert not Job.objects.exists()


def test_a_wrong_file_type_is_refused_with_a_message(
    db: Any, admin_client: Any, project: Any
) -> None:
    response = _upload(admin_client, project, "notes.txt", b"hello")
    assert response.status_code == 200
    assert b"notes.txt: expected one of" in response.content
    assert not Job.objects.exists()
