"""An export worker killed outright (SIGKILL) cannot remove its hidden work folder: the beat's
reaper fails its snapshot and removes the folder, and the next export beside it removes it as it
starts, while the folder of an export still being written is left alone."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import ROOT, process_env
from tests.exports.helpers import make_pairs
from webapp.exports.models import ExportSnapshot
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write
from webapp.jobs.models import Job
from workers.tasks import reap_stale_jobs

# Claims the export's job as a worker does, then dies by SIGKILL at the first progress report:
# the work folder exists by then and nothing in the process gets to clean up.
KILLED_WORKER = """
import os, signal, django
django.setup()
from webapp.exports.models import ExportSnapshot
from webapp.exports.services import export_write
from webapp.jobs.services import job_claim
snapshot = ExportSnapshot.objects.get(pk={pk})
job_claim(job_id=snapshot.job_id)
export_write(snapshot=snapshot, progress=lambda *a: os.kill(os.getpid(), signal.SIGKILL))
"""


def _partials(parent: Path) -> list[Path]:
    return sorted(parent.glob(".*.partial-*"))


def _killed_export(project: Any, directory: Path) -> ExportSnapshot:
    snapshot = export_create(
        project=project, file_format="jsonl", spec=ExportSpec(), directory=directory, enqueue=False
    )
    env = process_env() | {"DJANGO_SETTINGS_MODULE": "webapp.settings"}
    code = textwrap.dedent(KILLED_WORKER.format(pk=snapshot.pk))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, timeout=120)
    assert done.returncode == -signal.SIGKILL
    snapshot.refresh_from_db()
    assert snapshot.status == ExportSnapshot.Status.RUNNING
    assert len(_partials(directory.parent)) == 1  # what the killed worker left
    return snapshot


def _stale(snapshot: ExportSnapshot) -> None:
    long_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=snapshot.job_id).update(heartbeat_at=long_ago)


@pytest.mark.django_db(transaction=True)
def test_the_reaper_removes_a_killed_exports_folder(project: Any, tmp_path: Path) -> None:
    make_pairs(project, 6)
    killed = _killed_export(project, tmp_path / "v1")
    # an export being written right now, beside it: its folder must stay
    live = export_create(
        project=project,
        file_format="jsonl",
        spec=ExportSpec(),
        directory=tmp_path / "v2",
        enqueue=False,
    )
    ExportSnapshot.objects.filter(pk=live.pk).update(status=ExportSnapshot.Status.RUNNING)
    Job.objects.filter(pk=live.job_id).update(
        status=Job.Status.RUNNING, heartbeat_at=timezone.now()
    )
    live_work = tmp_path / ".v2.partial-0123abcd"
    live_work.mkdir()
    assert reap_stale_jobs() == 0  # the killed worker's job still looks alive: nothing yet
    assert len(_partials(tmp_path)) == 2
    _stale(killed)
    assert reap_stale_jobs() == 1
    assert _partials(tmp_path) == [live_work]
    killed.refresh_from_db()
    assert killed.status == ExportSnapshot.Status.FAILED
    assert "stopped reporting" in killed.error
    assert not (tmp_path / "v1").exists()


@pytest.mark.django_db(transaction=True)
def test_the_next_export_removes_a_killed_exports_folder(project: Any, tmp_path: Path) -> None:
    make_pairs(project, 6)
    killed = _killed_export(project, tmp_path / "v1")
    _stale(killed)  # its worker is gone; the reaper has not run yet
    after = export_create(
        project=project,
        file_format="jsonl",
        spec=ExportSpec(),
        directory=tmp_path / "v2",
        enqueue=False,
    )
    written = export_write(snapshot=after)
    assert written.is_ready and written.row_count > 0
    assert _partials(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v2"]
