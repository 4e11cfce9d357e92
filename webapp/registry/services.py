"""Writes of the registry: a saved model folder moved into place under the project's next
version number, and its row, in the caller's transaction.

A model is written into a work folder beside the registry first (``work_folder``), so a
worker killed mid-run, or mid-write, leaves no version behind; the rename into ``v<N>`` and
the row are made in the transaction that completes the training run, and a failed commit
renames the folder back.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Max

from webapp.projects.models import Project
from webapp.registry.models import RegisteredModel


def models_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "models"


def work_folder(*, project_id: int, run_id: int) -> Path:
    """A fresh folder for a run to save its model into, beside the project's versions. What
    an earlier attempt of the same run left (its worker killed) is removed first: one attempt
    of a run runs at a time, since its job is claimed."""
    root = models_root() / str(project_id)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(f".run{run_id}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f".run{run_id}-", dir=root))


def _file_entry(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _next_version(project: Project, root: Path) -> int:
    """One above both the registry's and the folders' highest: a folder left by a commit that
    failed after its rename is never reused."""
    last = RegisteredModel.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0
    on_disk = [int(p.name[1:]) for p in root.glob("v*") if p.name[1:].isdigit()]
    return max([last, *on_disk]) + 1


@contextmanager
def model_registered(
    *, project: Project, run_id: int, kind: str, work: Path
) -> Iterator[RegisteredModel]:
    """Register the model saved in ``work``: move it to the project's next version and store
    its row; the body of the ``with`` completes the run. Call inside a transaction that holds
    the project's row lock (versions never clash); if the body or the row fails, the folder
    goes back to ``work``."""
    files = [_file_entry(p) for p in sorted(work.iterdir()) if p.is_file()]
    root = work.parent
    final = root / f"v{_next_version(project, root)}"
    os.rename(work, final)
    try:
        yield RegisteredModel.objects.create(
            project=project,
            run_id=run_id,
            version=int(final.name[1:]),
            kind=kind,
            path=str(final),
            files=files,
        )
    except BaseException:
        os.rename(final, work)
        raise
