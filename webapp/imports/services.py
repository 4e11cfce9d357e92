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

import contextlib
import logging
import queue
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone

from webapp.imports.formats import (
    FormatError,
    ParsedPair,
    RecordError,
    RecordStream,
    open_records,
)
from webapp.imports.models import ImportBatch
from webapp.imports.step_items import StepCounts, steps_load
from webapp.jobs.models import Job
from webapp.jobs.services import job_create
from webapp.labelling.models import Vote
from webapp.pairs.hashing import canonical, pair_key, prompt_hash, response_hash
from webapp.pairs.models import Pair, Prompt, Response
from webapp.projects.models import Membership, Project

PAIRS = Pair._meta.db_table
PROMPTS = Prompt._meta.db_table
RESPONSES = Response._meta.db_table
VOTES = Vote._meta.db_table

log = logging.getLogger("preflab.imports")

# Pairs per chunk: large enough to spread each statement's fixed cost (planning, triggers,
# commit) thin, small enough to keep memory flat and progress moving.
CHUNK = 20_000
Progress = Callable[[int, int, str], None]


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


def import_run(*, batch: ImportBatch, progress: Progress | None = None) -> ImportBatch:
    """Import the batch's file. Rejected records land in ``batch.errors``; see module doc."""
    batch.status = ImportBatch.Status.RUNNING
    batch.save(update_fields=["status"])
    loader = _Loader(batch)
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
        if stream.is_steps:
            _load_steps(loader, stream, progress)
        elif batch.strict:
            with transaction.atomic():
                loader.load(stream, progress)  # type: ignore[arg-type]  # pairs, not steps
                if loader.rejected:
                    raise StrictImportRejected
        else:
            loader.load(stream, progress)  # type: ignore[arg-type]
    except StrictImportRejected:
        loader.created = loader.existing = loader.votes = 0
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


def _load_steps(loader: _Loader, stream: RecordStream, progress: Progress | None) -> None:
    """The steps case: items and their imported answers (step_items.py); the batch counts
    items as pairs_created and answers as votes_created."""

    def report(counts: StepCounts) -> None:
        if progress:
            progress(stream.position, stream.size, f"{counts.seen} solutions read")

    def load() -> None:
        counts = steps_load(
            batch=loader.batch,
            records=stream,  # type: ignore[arg-type]  # a steps stream yields ParsedSteps
            fmt=stream.format,
            reject=loader._reject,
            annotator_id=loader._annotator_id,
            progress=report,
        )
        loader.seen, loader.created = counts.seen, counts.items
        loader.existing, loader.votes = counts.existing, counts.answers
        if loader.batch.strict and loader.rejected:
            raise StrictImportRejected

    if loader.batch.strict:
        with transaction.atomic():
            load()
    else:
        load()
    if progress:
        progress(stream.size, stream.size, loader._summary())


@dataclass
class _Chunk:
    prompts: dict[bytes, tuple[str, str | None]] = field(default_factory=dict)
    responses: dict[bytes, tuple[str, str]] = field(default_factory=dict)
    pairs: list[tuple[Any, ...]] = field(default_factory=list)
    votes: list[tuple[bytes, str, str]] = field(default_factory=list)
    position: int = 0  # bytes of the file read when the chunk was complete


class _Loader:
    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.project = batch.project
        self.seen = self.rejected = self.created = self.existing = self.votes = 0
        self.errors: list[dict[str, Any]] = []
        self.annotators: dict[str, int] = {}

    def load(self, stream: Iterable[ParsedPair | RecordError], progress: Progress | None) -> None:
        """Parse and hash in a second thread while this one writes: PostgreSQL's work on one
        chunk overlaps Python's work on the next (the database waits release the GIL). All
        database work stays on this thread's connection, inside the caller's transaction."""
        size = getattr(stream, "size", 0)
        chunks: queue.Queue[_Chunk | BaseException | None] = queue.Queue(maxsize=2)
        stop = threading.Event()

        def produce() -> None:
            try:
                chunk = _Chunk()
                for item in stream:
                    if stop.is_set():
                        return
                    self.seen += 1
                    if isinstance(item, RecordError):
                        self._reject(item)
                        continue
                    self._add(chunk, item)
                    if len(chunk.pairs) >= CHUNK:
                        chunk.position = getattr(stream, "position", 0)
                        chunks.put(chunk)
                        chunk = _Chunk()
                chunks.put(chunk)
                chunks.put(None)
            except BaseException as exc:  # handed to the writer, which raises it
                chunks.put(exc)

        producer = threading.Thread(target=produce, name="import-parser", daemon=True)
        producer.start()
        try:
            while (chunk := chunks.get()) is not None:
                if isinstance(chunk, BaseException):
                    raise chunk
                self._flush(chunk)
                if progress and chunk.position:
                    progress(chunk.position, size, self._summary())
        finally:
            stop.set()
            while producer.is_alive():  # unblock a producer waiting on a full queue
                with contextlib.suppress(queue.Empty):
                    chunks.get(timeout=0.1)
            producer.join()
        if progress:
            progress(size, size, self._summary())

    def _summary(self) -> str:
        return f"{self.seen} records read, {self.created} new pairs, {self.rejected} rejected"

    def _reject(self, error: RecordError) -> None:
        self.rejected += 1
        if len(self.errors) < ImportBatch.MAX_STORED_ERRORS:
            self.errors.append(
                {
                    "file": error.file,
                    "line": error.line,
                    "field": error.field,
                    "reason": error.reason,
                }
            )

    def _add(self, chunk: _Chunk, item: ParsedPair) -> None:
        p_hash = prompt_hash(item.prompt)
        if isinstance(item.prompt, str):
            chunk.prompts[p_hash] = (item.prompt, None)
        else:
            chunk.prompts[p_hash] = ("", canonical(item.prompt))
        a_hash = response_hash(item.response_a, item.model_a)
        b_hash = response_hash(item.response_b, item.model_b)
        chunk.responses[a_hash] = (item.response_a, item.model_a)
        chunk.responses[b_hash] = (item.response_b, item.model_b)
        key = pair_key(
            prompt=p_hash,
            response_a=a_hash,
            response_b=b_hash,
            label=item.label,
            external_id=item.external_id,
        )
        chunk.pairs.append(
            (
                key,
                p_hash,
                a_hash,
                b_hash,
                item.label,
                item.line,
                item.split or self.batch.default_split,
                item.external_id,
                canonical(item.metadata) if item.metadata else "{}",
            )
        )
        for annotator, choice in item.votes:
            chunk.votes.append((key, annotator, choice))

    def _flush(self, chunk: _Chunk) -> None:
        if not chunk.pairs:
            return
        for _, name, _ in chunk.votes:
            self._annotator_id(name)
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor, for COPY
            if not self.batch.strict:
                # A chunk lost to a crash just after commit is re-imported by a retry (the
                # path is idempotent), so it need not wait for the disk.
                raw.execute("SET LOCAL synchronous_commit = off")
            _stage_tables(raw)
            with raw.copy("COPY stage_prompt (h, text, conversation) FROM STDIN") as copy:
                for h, (text, conv) in chunk.prompts.items():
                    copy.write_row((h, text, conv))
            with raw.copy("COPY stage_response (h, text, model) FROM STDIN") as copy:
                for h, (text, model) in chunk.responses.items():
                    copy.write_row((h, text, model))
            with raw.copy(
                "COPY stage_pair (k, p, a, b, label, line, split, external_id, metadata) FROM STDIN"
            ) as copy:
                for row in chunk.pairs:
                    copy.write_row(row)
            raw.execute(
                f"INSERT INTO {PROMPTS} (content_hash, text, conversation) "
                "SELECT h, text, conversation FROM stage_prompt ON CONFLICT DO NOTHING"
            )
            raw.execute(
                f"INSERT INTO {RESPONSES} (content_hash, text, source_model) "
                "SELECT h, text, model FROM stage_response ON CONFLICT DO NOTHING"
            )
            raw.execute(
                f"""
                INSERT INTO {PAIRS} (project_id, prompt_id, response_a_id, response_b_id,
                    imported_label, dedup_key, source_file, source_line, split, external_id,
                    metadata, import_batch_id, created_at)
                SELECT %(project)s, p.id, ra.id, rb.id, s.label, s.k, %(file)s, s.line, s.split,
                    s.external_id, s.metadata, %(batch)s, %(now)s
                FROM (SELECT DISTINCT ON (k) * FROM stage_pair ORDER BY k, line) s
                JOIN {PROMPTS} p ON p.content_hash = s.p
                JOIN {RESPONSES} ra ON ra.content_hash = s.a
                JOIN {RESPONSES} rb ON rb.content_hash = s.b
                ON CONFLICT (project_id, dedup_key) DO NOTHING
                """,
                {
                    "project": self.project.pk,
                    "file": self.batch.file_name[:500],
                    "batch": self.batch.pk,
                    "now": timezone.now(),
                },
            )
            created = raw.rowcount
            self.created += created
            self.existing += len(chunk.pairs) - created
            if chunk.votes:
                with raw.copy("COPY stage_vote (k, annotator_id, choice) FROM STDIN") as copy:
                    for key, name, choice in chunk.votes:
                        copy.write_row((key, self.annotators[name], choice))
                raw.execute(
                    f"""
                    INSERT INTO {VOTES} (pair_id, annotator_id, choice, shown_order,
                        rationale, created_at)
                    SELECT pp.id, v.annotator_id, v.choice, 'ab', '', %(now)s
                    FROM stage_vote v
                    JOIN {PAIRS} pp ON pp.project_id = %(project)s AND pp.dedup_key = v.k
                    ON CONFLICT (pair_id, annotator_id) DO NOTHING
                    """,
                    {"project": self.project.pk, "now": timezone.now()},
                )
                self.votes += raw.rowcount
            raw.execute("TRUNCATE stage_prompt, stage_response, stage_pair, stage_vote")

    def _annotator_id(self, name: str) -> int:
        """Votes in a file come from people without accounts here: each gets an inactive user."""
        if name not in self.annotators:
            user_model = get_user_model()
            username = f"import-p{self.project.pk}-{name}"[:150]
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"is_active": False}
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            Membership.objects.get_or_create(
                project=self.project, user=user, defaults={"role": Membership.Role.ANNOTATOR}
            )
            self.annotators[name] = user.pk
        return self.annotators[name]

    def save_counts(self, *, status: str) -> None:
        batch = self.batch
        batch.status = status
        batch.records_seen = self.seen
        batch.records_rejected = self.rejected
        batch.pairs_created = self.created
        batch.pairs_existing = self.existing
        batch.votes_created = self.votes
        batch.errors = self.errors
        batch.finished_at = timezone.now()
        batch.save()


def _stage_tables(raw: Any) -> None:
    # Temporary tables live as long as the connection; created once, emptied after each chunk.
    raw.execute(
        """
        CREATE TEMP TABLE IF NOT EXISTS stage_prompt (h bytea, text text, conversation jsonb);
        CREATE TEMP TABLE IF NOT EXISTS stage_response (h bytea, text text, model text);
        CREATE TEMP TABLE IF NOT EXISTS stage_pair (k bytea, p bytea, a bytea, b bytea,
            label text, line integer, split text, external_id text, metadata jsonb);
        CREATE TEMP TABLE IF NOT EXISTS stage_vote (k bytea, annotator_id bigint, choice text);
        """
    )
