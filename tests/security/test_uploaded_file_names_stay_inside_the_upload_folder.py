"""Whatever name an uploaded file claims (parent folders, absolute paths, NUL, thousands of
characters, look-alike slashes and direction overrides), it is stored under the upload folder
under a safe name that keeps its type, and the pages show it escaped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.security.hostile import Stored
from webapp.imports.models import ImportBatch
from webapp.imports.services import import_run, import_upload_start

pytestmark = pytest.mark.django_db

BODY = (json.dumps({"prompt": "p", "chosen": "c", "rejected": "r"}) + "\n").encode()

NAMES = [
    "../../../etc/passwd.jsonl",
    "/etc/cron.d/evil.jsonl",
    "C:\\Windows\\System32\\evil.jsonl",
    "..\\..\\evil.jsonl",
    "evil\x00.png.jsonl",
    "x" * 5000 + ".jsonl",
    "evil\u202elnosj.exe.jsonl",  # a right-to-left override
    "..\uff0f..\uff0fevil.jsonl",  # fullwidth solidus, a slash look-alike
    "\u2025/evil.jsonl",  # two-dot leader
    ".jsonl",
    "<script>alert(1)</script>.jsonl",
]


@pytest.fixture
def upload_dir(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    settings.UPLOAD_DIR = str(folder)
    return folder


@pytest.mark.parametrize("name", NAMES, ids=[repr(n[:30]) for n in NAMES])
def test_a_tricky_name_is_stored_safely_and_imports(
    stored: Stored, upload_dir: Path, name: str
) -> None:
    batch = import_upload_start(project=stored.project, upload=SimpleUploadedFile(name, BODY))
    path = Path(batch.stored_path)
    assert path.resolve().is_relative_to(upload_dir.resolve())
    assert path.parent.parent == upload_dir  # one fresh folder per upload, nothing deeper
    assert path.read_bytes() == BODY
    stored_name = path.name
    assert stored_name == batch.file_name
    assert 0 < len(stored_name) <= 200 and stored_name.endswith(".jsonl")
    assert stored_name.isascii() and not stored_name.startswith(".")
    assert "/" not in stored_name and "\\" not in stored_name and "\x00" not in stored_name
    assert import_run(batch=batch).status == ImportBatch.Status.DONE
    stored.assert_unchanged(new_pairs=1)


def test_the_page_upload_and_report_show_the_name_escaped(
    stored: Stored, upload_dir: Path, admin_client: Any
) -> None:
    name = '"><img src=x onerror=alert(1)>.jsonl'
    response = admin_client.post(
        reverse("imports:upload", args=[stored.project.pk]),
        {"file": SimpleUploadedFile(name, BODY), "fmt": "auto", "split": "train"},
    )
    assert response.status_code == 302
    batch = ImportBatch.objects.latest("created_at")
    assert Path(batch.stored_path).resolve().is_relative_to(upload_dir.resolve())
    report = admin_client.get(reverse("imports:report", args=[batch.pk])).content.decode()
    assert batch.file_name in report and "<img" not in report
    stored.assert_unchanged()


def test_a_refused_type_is_named_escaped(stored: Stored, admin_client: Any) -> None:
    response = admin_client.post(
        reverse("imports:upload", args=[stored.project.pk]),
        {"file": SimpleUploadedFile("<i>x<i>.exe", b"MZ"), "fmt": "auto", "split": "train"},
    )
    content = response.content.decode()
    assert response.status_code == 200 and "&lt;i&gt;x&lt;i&gt;.exe" in content
    assert "<i>x<i>" not in content
    stored.assert_unchanged()
