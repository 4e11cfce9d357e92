"""Import preference files into PostgreSQL, set-based.

Records stream from ``formats.open_records`` in chunks. Each chunk is hashed in Python, then
COPYed into temporary staging tables and moved into the real tables with one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` per table: a handful of statements per chunk,
never a query per row. Hash keys make the whole path idempotent, so importing a file twice, or
retrying a killed import from the start, adds nothing the first run added.

Non-strict imports commit chunk by chunk (a crash keeps what was committed, and a retry
skips it). Strict imports run in one transaction and roll back if any record was rejected.
"""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from webapp.imports.attributes import rating_attributes_adopt
from webapp.imports.formats import FormatError, RecordStream, open_records
from webapp.imports.loader import Loader, Progress
from webapp.imports.models import ImportBatch
from webapp.imports.step_items import StepCounts, steps_load
from webapp.jobs.models import Job
from webapp.jobs.services import job_create
from webapp.projects.models import Project

log = logging.getLogger("preflab.imports")


class StrictImportRejected(Exception):
    """A strict import met bad records; nothing was stored."""


def import_batch_create(
    *,
    project: Project,
    path: Path,
    file_name: str,
    fmt: str = "auto",
    mapping: dict[str, str] | None = None,
    strict: bool = False,
    default_split: str = "train",
    created_by: Any = None,
    job: Job | None = None,
) -> ImportBatch:
    return ImportBatch.objects.create(
        project=project,
        job=job,
        file_name=file_name,
        stored_path=str(path),
        fmt=fmt,
        mapping=mapping,
        strict=strict,
        default_split=default_split,
        created_by=created_by,
    )


def safe_file_name(name: str) -> str:
    """The last path part of an uploaded name, in safe characters (no '..', no slashes, no
    leading dot), at most 200 long and keeping its end, so its type still shows: '.jsonl'
    becomes 'upload.jsonl', not 'jsonl'."""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base)[-194:]
    return f"upload{cleaned}" if not cleaned or cleaned.startswith(".") else cleaned


def import_upload_start(
    *,
    project: Project,
    upload: UploadedFile,
    fmt: str = "auto",
    mapping: dict[str, str] | None = None,
    strict: bool = False,
    default_split: str = "train",
    created_by: Any = None,
) -> ImportBatch:
    """Keep an uploaded file under UPLOAD_DIR and queue its import as a job (page and API)."""
    folder = Path(settings.UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_file_name(upload.name or "upload")
    path = folder / name
    with open(path, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    with transaction.atomic():
        job = job_create(
            kind="import", project=project, params={"file": name}, created_by=created_by
        )
        return import_batch_create(
            project=project,
            path=path,
            file_name=name,
            fmt=fmt or "auto",
            mapping=mapping,
            strict=strict,
            default_split=default_split or "train",
            created_by=created_by,
            job=job,
        )


def import_batches_fail(*, job_id: int, error: str) -> int:
    """Fail the unfinished import of a job whose worker died (the stale-job reaper calls this).
    Its committed chunks stay; importing the file again adds exactly the rest."""
    return ImportBatch.objects.filter(
        job_id=job_id, status__in=[ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING]
    ).update(status=ImportBatch.Status.FAILED, error=error, finished_at=timezone.now())


def _load_steps(loader: Loader, stream: RecordStream, progress: Progress | None) -> None:
    """The steps case: solutions as items, and the file's labels as answers (step_items.py)."""

    def report(counts: StepCounts) -> None:
        if progress:
            progress(stream.position, stream.size, f"{counts.seen} solutions read")

    def load() -> None:
        counts = steps_load(
            batch=loader.batch,
            records=stream,
            fmt=stream.format,
            reject=loader._reject,
            annotator_id=loader._annotator_id,
            progress=report,
        )
        loader.seen, loader.items_created = counts.seen, counts.items
        loader.existing = loader.items_existing = counts.existing
        loader.answers = counts.answers
        if loader.batch.strict and loader.rejected:
            raise StrictImportRejected

    if loader.batch.strict:
        with transaction.atomic():
            load()
    else:
        load()
    if progress:
        progress(stream.size, stream.size, f"{loader.seen} solutions read")


def import_run(*, batch: ImportBatch, progress: Progress | None = None) -> ImportBatch:
    """Import the batch's file. Rejected records land in ``batch.errors``; see module doc."""
    batch.status = ImportBatch.Status.RUNNING
    batch.save(update_fields=["status"])
    rating_attributes_adopt(batch=batch)  # before the loader reads the project's settings
    loader = Loader(batch)
    try:
        stream = open_records(
            batch.stored_path, fmt=batch.fmt, mapping=batch.mapping, display_name=batch.file_name
        )
        if batch.fmt != stream.format:
            batch.fmt = stream.format
        steps_project = batch.project.label_scheme == Project.LabelScheme.STEPS
        if stream.is_steps != steps_project:
            stream.close()
            raise FormatError(
                f"{batch.file_name}: holds step-by-step solutions ({stream.format}); import it "
                "into a project whose label scheme is steps"
                if stream.is_steps
                else f"{batch.file_name}: a steps project imports step-by-step solutions, "
                f"not {stream.format} records"
            )
        loader.check_scheme(stream.of_items, batch.file_name)
        if stream.is_steps:
            _load_steps(loader, stream, progress)
        elif batch.strict:
            with transaction.atomic():
                loader.load(stream, progress)
                if loader.rejected:
                    raise StrictImportRejected
        else:
            loader.load(stream, progress)
    except StrictImportRejected:
        loader.created = loader.existing = loader.votes = 0
        loader.items_created = loader.items_existing = loader.answers = 0
        batch.status = ImportBatch.Status.REJECTED
    except FormatError as exc:
        batch.status = ImportBatch.Status.FAILED
        batch.error = str(exc)
    except BaseException:
        loader.save_counts(status=ImportBatch.Status.FAILED)
        raise
    else:
        batch.status = ImportBatch.Status.DONE
    loader.save_counts(status=batch.status)
    return batch
