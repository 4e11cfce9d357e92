"""The export pages (admins make exports, reviewers read them, annotators get 404; user text is
escaped) and ``manage.py export_dataset``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.exports.helpers import make_pairs
from tests.factories import MembershipFactory, UserFactory
from webapp.exports.models import ExportSnapshot
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write


def test_an_admin_starts_an_export_from_the_page(admin_client: Any, project: Any) -> None:
    make_pairs(project, 4)
    page = admin_client.get(f"/projects/{project.pk}/exports/")
    assert page.status_code == 200 and b'id="export-form"' in page.content
    response = admin_client.post(
        f"/projects/{project.pk}/exports/",
        {"file_format": "parquet", "style": "standard", "split": "train", "drop_flagged": "on"},
    )
    snapshot = ExportSnapshot.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{snapshot.job_id}/"
    assert snapshot.filters == {
        "drop_flagged": True,
        "min_strength": None,
        "reviewed_only": False,
        "split": "train",
    }


def test_annotators_get_404_and_reviewers_cannot_export(client: Any, project: Any) -> None:
    annotator, reviewer = UserFactory(), UserFactory()
    MembershipFactory(project=project, user=annotator, role="annotator")
    MembershipFactory(project=project, user=reviewer, role="reviewer")
    make_pairs(project, 4)
    snapshot = export_write(
        snapshot=export_create(
            project=project, file_format="jsonl", spec=ExportSpec(), enqueue=False
        )
    )
    client.force_login(annotator)
    for url in (
        f"/projects/{project.pk}/exports/",
        f"/exports/{snapshot.pk}/",
        f"/exports/{snapshot.pk}/files/README.md",
    ):
        assert client.get(url).status_code == 404, url
    client.force_login(reviewer)
    page = client.get(f"/projects/{project.pk}/exports/")
    assert page.status_code == 200 and b'id="export-form"' not in page.content
    assert (
        client.post(
            f"/projects/{project.pk}/exports/", {"file_format": "jsonl", "style": "standard"}
        ).status_code
        == 404
    )
    assert client.get(f"/exports/{snapshot.pk}/files/train.jsonl").status_code == 200
    assert client.get(f"/exports/{snapshot.pk}/files/..%2Fsecret_key").status_code == 404


def test_the_snapshot_page_escapes_names_and_lists_files(
    admin_client: Any, project: Any, django_assert_max_num_queries: Any
) -> None:
    project.name = "<script>alert(1)</script>"
    project.save()
    make_pairs(project, 4)
    snapshot = export_write(
        snapshot=export_create(
            project=project, file_format="jsonl", spec=ExportSpec(), enqueue=False
        )
    )
    with django_assert_max_num_queries(8):
        page = admin_client.get(f"/exports/{snapshot.pk}/")
    assert b"<script>alert(1)</script>" not in page.content
    assert b"&lt;script&gt;" in page.content
    assert b"train.jsonl" in page.content and snapshot.files[0]["sha256"].encode() in page.content
    with django_assert_max_num_queries(8):
        admin_client.get(f"/projects/{project.pk}/exports/")


def test_the_command_writes_a_recorded_snapshot(project: Any, tmp_path: Path) -> None:
    make_pairs(project, 8)
    out = tmp_path / "out"
    call_command(
        "export_dataset",
        "--project",
        project.name,
        "--format",
        "jsonl.gz",
        "--out",
        str(out),
        "--split",
        "train",
    )
    snapshot = ExportSnapshot.objects.get()
    assert snapshot.path == out.resolve()
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "train.jsonl.gz"]
    assert snapshot.job is not None and snapshot.job.status == "succeeded"
    with pytest.raises(CommandError, match="not an empty folder"):
        call_command(
            "export_dataset", "--project", project.name, "--format", "jsonl", "--out", str(out)
        )
