"""The importer's case for step-by-step solutions: each ParsedSteps becomes an Item of one
response (the solution, its step spans in the ItemResponse's metadata: webapp/pairs/steps.py)
and, where the file says where it goes wrong, an answer of kind ``steps`` by the file's
labeller (an imported annotator, as the pair importer makes for votes in files): PRM800K's
labeller id, else the format's name (ProcessBench's experts, BIG-Bench-Mistake's annotators).

Set-based, a chunk of solutions at a time: one INSERT ... SELECT FROM unnest(...) per table,
ON CONFLICT DO NOTHING, so importing a file twice adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from webapp.imports.containers import RecordError
from webapp.imports.models import ImportBatch
from webapp.imports.step_fields import ParsedSteps
from webapp.labelling.items import AnswerRow, item_answers_store
from webapp.labelling.payloads import PayloadError, payload_clean
from webapp.pairs.hashing import canonical, item_key, prompt_hash, response_hash
from webapp.pairs.models import Item, ItemResponse, Prompt, Response
from webapp.pairs.steps import labels_from_first_error, solution_text

ITEMS = Item._meta.db_table
ITEM_RESPONSES = ItemResponse._meta.db_table
PROMPTS = Prompt._meta.db_table
RESPONSES = Response._meta.db_table

CHUNK = 2000  # solutions per transaction


@dataclass
class StepCounts:
    seen: int = 0
    items: int = 0
    existing: int = 0
    answers: int = 0


def step_payload(parsed: ParsedSteps) -> dict[str, Any] | None:
    """The answer the file's labels give, cleaned; None when the file labels no step."""
    n = len(parsed.steps)
    if parsed.ratings:
        steps: list[int | None] = list(parsed.ratings)
        if parsed.first_error is not None and parsed.first_error >= 0:
            # what follows the first error is not labelled (PRM800K stops there)
            steps = steps[: parsed.first_error + 1] + [None] * (n - parsed.first_error - 1)
    else:
        steps = labels_from_first_error(n, parsed.first_error)
    if all(label is None for label in steps):
        return None
    return payload_clean(
        kind="steps",
        payload={"steps": steps, "first_error": parsed.first_error},
        positions=[0],
        settings=None,  # type: ignore[arg-type]  # the steps kind reads no settings
        n_steps=n,
    )


def steps_load(
    *,
    batch: ImportBatch,
    records: Iterable[ParsedSteps | RecordError],
    fmt: str,
    reject: Callable[[RecordError], None],
    annotator_id: Callable[[str], int],
    progress: Callable[[StepCounts], None] | None = None,
) -> StepCounts:
    """Import the solutions; bad ones go to ``reject`` as the pair importer's do."""
    counts = StepCounts()
    chunk: list[tuple[ParsedSteps, dict[str, Any] | None]] = []
    for record in records:
        counts.seen += 1
        if isinstance(record, RecordError):
            reject(record)
            continue
        try:
            payload = step_payload(record)
        except PayloadError as e:
            reject(RecordError(batch.file_name, record.line, e.field, e.message))
            continue
        chunk.append((record, payload))
        if len(chunk) >= CHUNK:
            _write(batch, chunk, fmt, annotator_id, counts)
            chunk = []
            if progress:
                progress(counts)
    if chunk:
        _write(batch, chunk, fmt, annotator_id, counts)
    return counts


def _write(
    batch: ImportBatch,
    chunk: list[tuple[ParsedSteps, dict[str, Any] | None]],
    fmt: str,
    annotator_id: Callable[[str], int],
    counts: StepCounts,
) -> None:
    project = batch.project
    rows = []
    for parsed, payload in chunk:
        text, spans = solution_text(parsed.steps)
        p_hash = prompt_hash(parsed.problem)
        r_hash = response_hash(text, parsed.model)
        key = item_key(prompt=p_hash, responses=[r_hash], external_id=parsed.external_id)
        extra = dict(parsed.metadata)
        extra.update(
            final_answer=parsed.final_answer,
            reference_answer=parsed.reference_answer,
            final_answer_correct=parsed.final_answer_correct,
        )
        labeller = parsed.annotator or fmt
        rows.append((key, p_hash, r_hash, parsed, text, spans, extra, labeller, payload))
    labellers = {row[7]: annotator_id(row[7]) for row in rows if row[8] is not None}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PROMPTS} (content_hash, text, conversation) "
            "SELECT h, t, NULL FROM unnest(%s::bytea[], %s::text[]) AS s(h, t) "
            "ON CONFLICT DO NOTHING",
            [[r[1] for r in rows], [r[3].problem for r in rows]],
        )
        cursor.execute(
            f"INSERT INTO {RESPONSES} (content_hash, text, source_model) "
            "SELECT h, t, m FROM unnest(%s::bytea[], %s::text[], %s::text[]) AS s(h, t, m) "
            "ON CONFLICT DO NOTHING",
            [[r[2] for r in rows], [r[4] for r in rows], [r[3].model for r in rows]],
        )
        cursor.execute(
            f"""
            INSERT INTO {ITEMS} (project_id, prompt_id, dedup_key, source_file, source_line,
                split, external_id, metadata, import_batch_id, created_at)
            SELECT %(project)s, p.id, s.k, %(file)s, s.line, s.split, s.external_id,
                s.metadata, %(batch)s, %(now)s
            FROM unnest(%(keys)s::bytea[], %(prompts)s::bytea[], %(lines)s::int[],
                %(splits)s::text[], %(ids)s::text[], %(metadata)s::jsonb[])
                AS s(k, p, line, split, external_id, metadata)
            JOIN {PROMPTS} p ON p.content_hash = s.p
            ON CONFLICT (project_id, dedup_key) DO NOTHING
            """,
            {
                "project": project.pk,
                "file": batch.file_name[:500],
                "batch": batch.pk,
                "now": timezone.now(),
                "keys": [r[0] for r in rows],
                "prompts": [r[1] for r in rows],
                "lines": [r[3].line for r in rows],
                "splits": [r[3].split or batch.default_split for r in rows],
                "ids": [r[3].external_id for r in rows],
                "metadata": [canonical(r[6]) for r in rows],
            },
        )
        created = cursor.rowcount
        cursor.execute(
            f"SELECT dedup_key, id FROM {ITEMS} WHERE project_id = %s AND dedup_key = ANY(%s)",
            [project.pk, [r[0] for r in rows]],
        )
        ids = {bytes(k): i for k, i in cursor.fetchall()}
        cursor.execute(
            f"""
            INSERT INTO {ITEM_RESPONSES} (item_id, position, response_id, metadata)
            SELECT s.item_id, 0, r.id, s.metadata
            FROM unnest(%s::bigint[], %s::bytea[], %s::jsonb[]) AS s(item_id, h, metadata)
            JOIN {RESPONSES} r ON r.content_hash = s.h
            ON CONFLICT (item_id, position) DO NOTHING
            """,
            [
                [ids[r[0]] for r in rows],
                [r[2] for r in rows],
                [json.dumps({"step_spans": r[5]}) for r in rows],
            ],
        )
        answers = [
            AnswerRow(ids[r[0]], labellers[r[7]], "steps", r[8]) for r in rows if r[8] is not None
        ]
        counts.answers += item_answers_store(project=project, answers=answers).answers_created
    counts.items += created
    counts.existing += len(rows) - created
