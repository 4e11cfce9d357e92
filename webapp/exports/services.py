"""Writes for exports: create a snapshot (and its job), write its files, record the outcome.

``export_create`` numbers the snapshot and queues its job; ``export_write`` (run by the job's
task, or in-process by ``manage.py export_dataset``) streams every split into its own file in
a hidden folder beside the final one, writes the dataset card, makes the files read-only and
renames the folder into place: a snapshot's folder exists only once it is complete.

A worker killed outright (SIGKILL, a lost machine) cannot remove its hidden folder:
``exports_reap`` (on the worker's beat, after the stale-job reaper) fails the snapshots whose
job ended without them and removes the hidden folders nobody is writing any more, and every
export removes those beside its own folder before it starts.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

import webapp
from webapp.exports.card import CardContext, CardFile, dataset_card
from webapp.exports.items import item_card, item_files_write
from webapp.exports.models import ExportSnapshot
from webapp.exports.selectors import (
    WITNESSES,
    ExportError,
    ExportSpec,
    check_spec,
    export_counts,
    score_source,
)
from webapp.exports.snapshots import split_file_stem
from webapp.exports.step_files import step_files_write
from webapp.exports.streaming import export_rows
from webapp.exports.writers import (
    JsonlWriter,
    ParquetWriter,
    WrittenFile,
    file_sha256,
    parquet_schema,
)
from webapp.jobs.models import Job
from webapp.jobs.services import STALE_AFTER, job_create
from webapp.projects.models import Project
from webapp.projects.schemes import labels_items

log = logging.getLogger("preflab.exports")
Progress = Callable[[int, int, str], None]

GZIP_LEVEL = 6


def exports_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "exports"


def export_create(
    *,
    project: Project,
    file_format: str,
    spec: ExportSpec,
    created_by: Any = None,
    directory: Path | None = None,
    enqueue: bool = True,
) -> ExportSnapshot:
    """Store a pending snapshot with the project's next version number, and its export job
    (queued after commit unless ``enqueue`` is False). Locks the project row, which makes
    version numbers of concurrent exports distinct. Raises ExportError for a bad request."""
    if file_format not in ExportSnapshot.FileFormat.values:
        raise ExportError(f"unknown format {file_format!r}")
    check_spec(spec=spec, project=project)
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        last = ExportSnapshot.objects.filter(project=project).aggregate(v=Max("version"))["v"]
        version = (last or 0) + 1
        if directory is None:
            directory = exports_root() / str(project.pk) / f"v{version}"
        job = job_create(
            kind="export",
            project=project,
            params={"version": version, "format": file_format, **spec.filters()},
            created_by=created_by,
            enqueue=enqueue,
        )
        return ExportSnapshot.objects.create(
            project=project,
            version=version,
            file_format=file_format,
            style=spec.style,
            with_margin=spec.with_margin,
            filters=spec.filters(),
            directory=str(Path(directory).resolve()),
            preflab_version=webapp.__version__,
            job=job,
            created_by=created_by,
        )


def export_write(*, snapshot: ExportSnapshot, progress: Progress | None = None) -> ExportSnapshot:
    """Write the snapshot's files. On any error (a cancel included) nothing is left on disk,
    the snapshot is marked failed, and the error is raised again."""
    started = ExportSnapshot.objects.filter(
        pk=snapshot.pk, status__in=[ExportSnapshot.Status.PENDING, ExportSnapshot.Status.RUNNING]
    ).update(status=ExportSnapshot.Status.RUNNING)
    if not started:
        raise ExportError(f"export v{snapshot.version} was already written or failed")
    final = snapshot.path
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        _fail(snapshot, f"{final} already exists and is not empty")
        raise ExportError(f"{final} already exists and is not empty")
    final.parent.mkdir(parents=True, exist_ok=True)
    # this snapshot's own earlier attempt, if any, is dead: its job was claimed again
    export_partials_remove(parent=final.parent, writing=final)
    work = final.parent / f".{final.name}.partial-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        if snapshot.project.label_scheme == Project.LabelScheme.STEPS:
            files, counts, card = step_files_write(snapshot=snapshot, work=work, progress=progress)
        else:
            files, counts, context = _write_files(snapshot, work, progress)
            card = dataset_card(context)
        (work / "README.md").write_text(card, encoding="utf-8")
        for path in work.iterdir():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.rename(work, final)  # onto a missing or empty folder: atomic
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)
        _fail(snapshot, str(exc) or type(exc).__name__)
        raise
    readme = {"name": "README.md", "split": "", "rows": 0}
    readme |= {"bytes": (final / "README.md").stat().st_size}
    readme |= {"sha256": file_sha256(final / "README.md")}
    snapshot.files = [*files, readme]
    snapshot.counts = counts
    snapshot.row_count = sum(int(f["rows"]) for f in files)
    snapshot.status = ExportSnapshot.Status.READY
    snapshot.finished_at = timezone.now()
    snapshot.save(
        update_fields=["files", "counts", "row_count", "status", "finished_at", "scoring_run_id"]
    )
    log.info(
        "export v%s of project %s: %s rows",
        snapshot.version,
        snapshot.project_id,
        snapshot.row_count,
    )
    return snapshot


def _write_files(
    snapshot: ExportSnapshot, work: Path, progress: Progress | None
) -> tuple[list[dict[str, Any]], dict[str, Any], CardContext]:
    project = snapshot.project
    spec = ExportSpec.from_snapshot(snapshot)
    source = score_source(project=project)
    snapshot.scoring_run_id = source.run_id
    derived = labels_items(project)
    margin_written = spec.with_margin and source.has_scores and not derived
    counts = export_counts(project=project, spec=spec, source=source)
    witnesses = {
        split: sorted({c.pop(name) for name in WITNESSES} - {None}) for split, c in counts.items()
    }
    id_ranges = {split: (c.pop("first_id"), c.pop("last_id")) for split, c in counts.items()}
    total = sum(c["exported"] for c in counts.values())
    done = 0
    if progress:
        progress(0, total, f"exporting {total} pairs")
    files: list[dict[str, Any]] = []
    card_files: list[CardFile] = []
    taken: set[str] = {"README"}
    suffix = "." + snapshot.file_format
    for split, count in counts.items():
        if not count["exported"]:
            continue
        stem = split_file_stem(split, taken)
        path = work / f"{stem}{suffix}"
        writer: JsonlWriter | ParquetWriter
        if snapshot.file_format == ExportSnapshot.FileFormat.PARQUET:
            schema = parquet_schema(
                conversational=spec.style == ExportSnapshot.Style.CONVERSATIONAL,
                with_margin=margin_written,
                derived=derived,
            )
            writer = ParquetWriter(path, schema=schema)
        else:
            gz = snapshot.file_format == ExportSnapshot.FileFormat.JSONL_GZ
            writer = JsonlWriter(path, gzip_level=GZIP_LEVEL if gz else None)
        try:
            blocks = export_rows(
                project=project,
                spec=spec,
                split=split,
                source=source,
                witnesses=witnesses[split],
                id_range=id_ranges[split],
            )
            for block in blocks:
                if block:
                    done += writer.write(block)
                elif progress:  # between two COPY statements: the connection is free
                    progress(min(done, total), total, f"{done} of {total} pairs ({split})")
        finally:
            written: WrittenFile = writer.close()
        files.append(
            {
                "name": written.name,
                "split": split,
                "hf_split": stem,
                "rows": written.rows,
                "bytes": written.bytes,
                "sha256": written.sha256,
            }
        )
        card_files.append(CardFile(written.name, split, stem, written.rows, written.sha256))
    if progress:
        progress(total, total, f"{done} pairs written")
    extra = item_files_write(project=project, work=work, split=spec.split) if derived else []
    for f in extra:
        w = f.written
        files.append(
            {
                "name": w.name,
                "split": "",
                "hf_split": f.config,
                "rows": w.rows,
                "bytes": w.bytes,
                "sha256": w.sha256,
            }
        )
    context = CardContext(
        project=project.name,
        version=snapshot.version,
        created_at=f"{snapshot.created_at:%Y-%m-%d %H:%M} UTC",
        created_by=snapshot.created_by.get_username() if snapshot.created_by else "",
        preflab_version=snapshot.preflab_version,
        file_format=snapshot.file_format,
        style=snapshot.style,
        with_margin=spec.with_margin,
        margin_written=margin_written,
        filters=spec.filters(),
        counts=counts,
        files=card_files,
        scoring_run_id=source.run_id,
        changed_during_export=done != total,
        items=item_card(project=project, files=extra) if derived else None,
    )
    return files, {"splits": counts, "margin_written": margin_written}, context


def export_abandon(*, job_id: int) -> int:
    """Mark failed the snapshot of a job that was cancelled before it started (its task finds
    nothing to claim); 1 if there was one."""
    return ExportSnapshot.objects.filter(
        job_id=job_id, status=ExportSnapshot.Status.PENDING, job__status=Job.Status.CANCELLED
    ).update(status=ExportSnapshot.Status.FAILED, error="Cancelled", finished_at=timezone.now())


# The hidden folder an export writes in before renaming it into place (see export_write).
PARTIAL = re.compile(r"^\.(?P<name>.+)\.partial-[0-9a-f]{8}$")


def export_partials_remove(*, parent: Path, writing: Path | None = None) -> int:
    """Remove the hidden work folders in ``parent`` of exports that nobody is writing: their
    snapshot is not pending or running, or its job stopped beating (STALE_AFTER), or it is
    ``writing``, the snapshot the caller has just claimed. Returns how many it removed."""
    try:
        found = [p for p in parent.iterdir() if PARTIAL.match(p.name) and p.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    if not found:
        return 0
    finals = {}
    for path in found:
        named = PARTIAL.match(path.name)
        assert named is not None
        finals[path] = str((parent / named["name"]).resolve())
    alive = set(
        ExportSnapshot.objects.filter(
            directory__in=set(finals.values()),
            status__in=[ExportSnapshot.Status.PENDING, ExportSnapshot.Status.RUNNING],
            job__status=Job.Status.RUNNING,
            job__heartbeat_at__gte=timezone.now() - STALE_AFTER,
        ).values_list("directory", flat=True)
    )
    if writing is not None:
        alive.discard(str(writing.resolve()))
    removed = 0
    for path, final in finals.items():
        if final not in alive:
            shutil.rmtree(path, ignore_errors=True)
            removed += not path.exists()
            log.info("removed %s, the work folder of an export that was stopped", path)
    return removed


def exports_reap() -> int:
    """After the stale-job reaper: fail the snapshots whose job ended without writing them (a
    killed worker's), and remove the hidden work folders left beside any snapshot's folder.
    Runs on the worker's beat; returns how many folders it removed."""
    stuck = ExportSnapshot.objects.filter(
        status__in=[ExportSnapshot.Status.PENDING, ExportSnapshot.Status.RUNNING],
        job__status__in=[Job.Status.FAILED, Job.Status.CANCELLED],
    ).select_related("job")
    for snapshot in stuck:
        assert snapshot.job is not None
        _fail(
            snapshot, snapshot.job.error or "the export's job ended before its files were written"
        )
    parents = {Path(d).parent for d in ExportSnapshot.objects.values_list("directory", flat=True)}
    root = exports_root()
    if root.is_dir():
        parents |= {p for p in root.iterdir() if p.is_dir()}
    return sum(export_partials_remove(parent=parent) for parent in sorted(parents))


def export_snapshots_fail(*, job_id: int, error: str) -> int:
    """Fail the unfinished snapshot of a job whose worker died (the stale-job reaper calls
    this). Its folder never appeared: files are renamed into place only when complete."""
    return ExportSnapshot.objects.filter(
        job_id=job_id, status__in=[ExportSnapshot.Status.PENDING, ExportSnapshot.Status.RUNNING]
    ).update(status=ExportSnapshot.Status.FAILED, error=error[:2000], finished_at=timezone.now())


def _fail(snapshot: ExportSnapshot, error: str) -> None:
    ExportSnapshot.objects.filter(pk=snapshot.pk).update(
        status=ExportSnapshot.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )
    snapshot.refresh_from_db()
