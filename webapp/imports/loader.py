"""The import's loader: records in, chunks of staged rows out, set-based into PostgreSQL.

See services.py for the path as a whole. Pairs are COPYed through staging tables; items (files
of several responses per prompt) share the staged prompts and responses and are written by
items.py. Parsing and hashing run on a second thread while this one writes.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from webapp.imports import items as item_import
from webapp.imports.formats import FormatError, ParsedItem, ParsedPair, RecordError
from webapp.imports.models import ImportBatch
from webapp.labelling.models import Vote
from webapp.pairs.hashing import canonical, pair_key, prompt_hash, response_hash
from webapp.pairs.models import Pair, Prompt, Response
from webapp.projects.models import Membership, Project
from webapp.projects.schemes import scheme_settings_of

PAIRS = Pair._meta.db_table
PROMPTS = Prompt._meta.db_table
RESPONSES = Response._meta.db_table
VOTES = Vote._meta.db_table

# Pairs per chunk: large enough to spread each statement's fixed cost (planning, triggers,
# commit) thin, small enough to keep memory flat and progress moving.
CHUNK = 20_000
Progress = Callable[[int, int, str], None]


@dataclass
class Chunk:
    prompts: dict[bytes, tuple[str, str | None]] = field(default_factory=dict)
    responses: dict[bytes, tuple[str, str]] = field(default_factory=dict)
    pairs: list[tuple[Any, ...]] = field(default_factory=list)
    votes: list[tuple[bytes, str, str]] = field(default_factory=list)
    items: list[tuple[Any, Any, Any]] = field(default_factory=list)  # see items.items_write
    position: int = 0  # bytes of the file read when the chunk was complete


class Loader:
    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.project = batch.project
        self.seen = self.rejected = self.created = self.existing = self.votes = 0
        self.items_created = self.items_existing = 0
        self.errors: list[dict[str, Any]] = []
        self.annotators: dict[str, int] = {}
        self.scheme = self.project.label_scheme
        self.settings = scheme_settings_of(self.project)
        self.answers = 0

    def check_scheme(self, of_items: bool, name: str) -> None:
        """A file of pairs goes into a pairwise project (or a pairwise-per-attribute one, as
        items of two), a file of items into a project that labels items."""
        pairwise = self.scheme == Project.LabelScheme.PAIRWISE
        if of_items and pairwise:
            raise FormatError(
                f"{name}: holds several responses per prompt, and this project labels pairs; "
                "import it into a ranking or rating project"
            )
        if not of_items and self.scheme in (
            Project.LabelScheme.RANKING,
            Project.LabelScheme.RATING,
        ):
            raise FormatError(
                f"{name}: holds pairs, and this {self.scheme} project labels items of several "
                "responses; import a listwise, ultrafeedback, helpsteer2 or row-mapped file"
            )

    def load(self, stream: Iterable[ParsedPair | RecordError], progress: Progress | None) -> None:
        """Parse and hash in a second thread while this one writes: PostgreSQL's work on one
        chunk overlaps Python's work on the next (the database waits release the GIL). All
        database work stays on this thread's connection, inside the caller's transaction."""
        size = getattr(stream, "size", 0)
        chunks: queue.Queue[Chunk | BaseException | None] = queue.Queue(maxsize=2)
        stop = threading.Event()

        def produce() -> None:
            try:
                chunk = Chunk()
                for item in stream:
                    if stop.is_set():
                        return
                    self.seen += 1
                    if isinstance(item, RecordError):
                        self._reject(item)
                        continue
                    if isinstance(item, ParsedItem):
                        self._add_item(chunk, item)
                    elif self.scheme != Project.LabelScheme.PAIRWISE:
                        self._add_item(chunk, item_import.pair_as_item(item))
                    else:
                        self._add(chunk, item)
                    if len(chunk.pairs) + len(chunk.items) >= CHUNK:
                        chunk.position = getattr(stream, "position", 0)
                        chunks.put(chunk)
                        chunk = Chunk()
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
        items = f", {self.items_created} new items" if self.items_created else ""
        return (
            f"{self.seen} records read{items}, {self.created} new pairs, {self.rejected} rejected"
        )

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

    def _add_item(self, chunk: Chunk, item: ParsedItem) -> None:
        try:
            answers = item_import.answers_of(item, scheme=self.scheme, settings=self.settings)
        except item_import.Bad as e:
            self._reject(RecordError(self.batch.file_name, item.line, e.field, e.reason))
            return
        _, row, responses = item_import.item_row(item, self.batch.default_split)
        if isinstance(item.prompt, str):
            chunk.prompts[row[1]] = (item.prompt, None)
        else:
            chunk.prompts[row[1]] = ("", canonical(item.prompt))
        for h, text, model, _ in responses:
            chunk.responses[h] = (text, model)
        chunk.items.append((row, responses, answers))

    def _add(self, chunk: Chunk, item: ParsedPair) -> None:
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

    def _flush(self, chunk: Chunk) -> None:
        if not chunk.pairs and not chunk.items:
            return
        for _, name, _ in chunk.votes:
            self._annotator_id(name)
        for _, _, answers in chunk.items:
            for name, _, _ in answers:
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
            if chunk.items:
                created, derived = item_import.items_write(
                    raw,
                    project=self.project,
                    batch_id=self.batch.pk,
                    file_name=self.batch.file_name,
                    now=timezone.now(),
                    items=chunk.items,
                    annotator_id=self._annotator_id,
                )
                self.items_created += created
                self.items_existing += len(chunk.items) - created
                self.created += derived.pairs_created
                self.votes += derived.votes_created
                self.answers += derived.answers_created
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
        batch.items_created = self.items_created
        batch.answers_created = self.answers
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
