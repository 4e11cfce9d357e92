from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from webapp.imports.models import ImportBatch
from webapp.jobs.models import Job
from webapp.ops.services import DEMO_FILE
from webapp.pairs.models import Pair

pytestmark = pytest.mark.django_db


def test_the_command_imports_a_gz_file_into_a_new_project() -> None:
    out = StringIO()
    call_command("import_pairs", str(DEMO_FILE), "--project", "cli", stdout=out, stderr=StringIO())
    batch = ImportBatch.objects.get()
    assert batch.project.name == "cli"
    assert batch.pairs_created == Pair.objects.count() > 900
    assert "new pairs" in out.getvalue()
    job = Job.objects.get()
    assert job.status == Job.Status.SUCCEEDED and job.kind == "import"


def test_the_command_prints_each_rejected_record_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"prompt": "p", "chosen": "c", "rejected": "r"}) + "\n{oops\n")
    err = StringIO()
    call_command("import_pairs", str(path), "--project", "cli", stdout=StringIO(), stderr=err)
    assert "bad.jsonl:2" in err.getvalue()
    assert Pair.objects.count() == 1


def test_strict_failure_is_a_command_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"prompt": "p", "chosen": "c", "rejected": "r"}) + "\n{oops\n")
    with pytest.raises(CommandError):
        call_command(
            "import_pairs", str(path), "--project", "cli", "--strict",
            stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip
    assert Pair.objects.count() == 0


def test_a_missing_file_is_named(tmp_path: Any) -> None:
    with pytest.raises(CommandError, match=r"nope\.jsonl"):
        call_command("import_pairs", str(tmp_path / "nope.jsonl"), "--project", "cli")
