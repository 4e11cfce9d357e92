"""Reads for exports: the rows of a dataset, straight out of PostgreSQL, and snapshot lookups.

``export_rows`` is the one place that decides what a row of an exported dataset holds. Each row
is built by PostgreSQL as a finished JSON object (``row_to_json``) and streamed with
``COPY (SELECT ...) TO STDOUT``, the lines of 16 pairs to a COPY row: Python never holds more
than one block of lines, never builds a dict per pair, and the same JSON feeds both writers
(JSON Lines as is, Parquet through pyarrow's JSON reader).

Where each column comes from:
  label, label_source, human_agreement
      the pair's effective label, by the rule of ``webapp.pairs.labels`` (its SQL, literally):
      a reviewer's keep / flip / tie ("review"; agreement null; a dropped pair is left out),
      else its aggregated human label (source "gold", "dawid_skene" or "majority"; agreement =
      that label's confidence), else the majority of its decisive votes ("votes"; agreement =
      the majority's share), else its imported label ("imported"; agreement null);
  mu, sigma
      the latest complete scoring run of the project (``webapp.scoring``); mu is the ensemble's
      preference strength r(chosen) - r(rejected) for the *exported* chosen response (its sign
      flips where the exported label differs from the label the run scored); null when the
      project has no scoring run, or the run did not score the pair;
  flags
      the sorted names of the pair's flags (``webapp.flags``) raised by that run or by checks
      tied to no run; null for an unflagged pair;
  margin (optional)
      max(mu, 0), the preference strength TRL's reward loss subtracts; 0 where mu is unknown.

Apps that are not installed contribute nulls, so an export works at every stage of a project.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from webapp.exports.models import ExportSnapshot
from webapp.pairs.labels import effective_label_sql
from webapp.projects.models import Membership, Project
from webapp.projects.selectors import project_for_user

# Bytes of JSON lines handed to a writer at a time: the unit of memory of an export.
BLOCK_BYTES = 8 * 1024 * 1024
# Pair ids whose JSON lines PostgreSQL sends as one COPY row, a piece: each COPY row costs
# the exporting process several microseconds, far more than writing a 1 KB line does. A piece
# is one text value, which PostgreSQL caps at 1 GB: 16 lines may hold 64 MB each.
PIECE_IDS = 16
# Pair ids per COPY statement: between two statements an export may record its progress.
# PostgreSQL sorts a statement's lines into pieces; those of 20k HH-RLHF pairs (about 22 MB)
# sort in WORK_MEM, those of 100k spilled to disk.
CHUNK_IDS = 20_000
# Connections that build an export's rows at once (PostgreSQL runs one statement on one core)
# and the bytes of rows each may have waiting for the writer.
# Several streams take smaller id ranges, so one range's rows fit in what a stream may buffer.
# None: settings.EXPORT_STREAMS.
STREAMS: int | None = None
STREAM_BUFFER_BYTES = 24 * 1024 * 1024
PARALLEL_CHUNK_IDS = 10_000
# Memory for one statement's sorts and hashes (the server's default, 4 MB, spills to disk).
WORK_MEM = "64MB"


class ExportError(ValueError):
    """An export that cannot be made as asked (a filter with no data behind it, ...)."""


@dataclass(frozen=True)
class ExportSpec:
    """What to export. The filters are kept on the snapshot as ``filters()``."""

    style: str = ExportSnapshot.Style.STANDARD
    with_margin: bool = False
    drop_flagged: bool = False  # leave out pairs with any flag
    min_strength: float | None = None  # leave out pairs whose mu is below this, or unknown
    reviewed_only: bool = False  # only pairs a reviewer decided on
    split: str = ""  # only this split; "" for all

    def filters(self) -> dict[str, Any]:
        values = asdict(self)
        return {k: values[k] for k in ("drop_flagged", "min_strength", "reviewed_only", "split")}

    @classmethod
    def from_snapshot(cls, snapshot: ExportSnapshot) -> ExportSpec:
        f = snapshot.filters or {}
        return cls(
            style=snapshot.style,
            with_margin=snapshot.with_margin,
            drop_flagged=bool(f.get("drop_flagged")),
            min_strength=f.get("min_strength"),
            reviewed_only=bool(f.get("reviewed_only")),
            split=str(f.get("split") or ""),
        )


@dataclass(frozen=True)
class ScoreSource:
    """Where mu / sigma / flags come from for one export (None: nowhere yet)."""

    run_id: int | None
    score_table: str | None
    flag_table: str | None

    @property
    def has_scores(self) -> bool:
        return self.run_id is not None and self.score_table is not None


def score_source(*, project: Project) -> ScoreSource:
    """The project's latest complete scoring run and the tables to read, where installed."""
    score_table = flag_table = None
    run_id = None
    if apps.is_installed("webapp.scoring"):
        from webapp.scoring.models import PairScore, ScoringRun

        score_table = PairScore._meta.db_table
        run_id = (
            ScoringRun.objects.filter(project=project, complete=True)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
    if apps.is_installed("webapp.flags"):
        from webapp.flags.models import Flag

        flag_table = Flag._meta.db_table
    return ScoreSource(run_id=run_id, score_table=score_table, flag_table=flag_table)


def review_source() -> str | None:
    """The table of the review decisions in force, where the review app is installed."""
    if apps.is_installed("webapp.review"):
        from webapp.review.models import PairReview

        return PairReview._meta.db_table
    return None


def _base_sql(*, source: ScoreSource, split: str | None, only_witnesses: bool = False) -> str:
    """The project's pairs with ids from %(lo)s to %(hi)s (only the %(witnesses)s with
    ``only_witnesses``), of one split if given, with their effective label, scores and flags,
    one row per pair. The id bounds keep every aggregate below (votes, flags) to the pairs
    read; the joins to the project's pairs do the rest.
    Placeholders: %(project)s, %(run)s, %(split)s, %(lo)s, %(hi)s, %(witnesses)s."""
    ids = "= ANY(%(witnesses)s)" if only_witnesses else "BETWEEN %(lo)s AND %(hi)s"
    label = effective_label_sql(pair="p", votes_where=f"v.pair_id {ids}")
    scores = (
        f"LEFT JOIN {source.score_table} s ON s.pair_id = p.id AND s.run_id = %(run)s"
        if source.has_scores
        else ""
    )
    score_cols = (
        "s.mu AS mu_scored, s.label_scored, s.sigma"
        if source.has_scores
        else "NULL::float8 AS mu_scored, NULL::text AS label_scored, NULL::float8 AS sigma"
    )
    if source.flag_table:
        run_clause = (
            "(g.scoring_run_id IS NULL OR g.scoring_run_id = %(run)s)"
            if source.run_id is not None
            else "g.scoring_run_id IS NULL"
        )
        flags = f"""LEFT JOIN (
                SELECT g.pair_id, array_agg(DISTINCT g.kind ORDER BY g.kind) AS flags
                FROM {source.flag_table} g
                WHERE g.project_id = %(project)s AND {run_clause} AND g.pair_id {ids}
                GROUP BY g.pair_id
            ) f ON f.pair_id = p.id"""
        flag_col = "f.flags"
    else:
        flags, flag_col = "", "NULL::text[] AS flags"
    split_clause = "AND p.split = %(split)s" if split is not None else ""
    return f"""
        SELECT p.id, p.split, p.prompt_id, p.response_a_id, p.response_b_id,
            coalesce({label.label}, '') AS label, {label.source} AS label_source,
            {label.agreement} AS agreement, {label.reviewed} AS reviewed,
            {score_cols}, {flag_col}
        FROM pairs_pair p
        {label.joins}
        {scores}
        {flags}
        WHERE p.project_id = %(project)s {split_clause} AND p.id {ids}
    """


# mu for the exported chosen response: the run scored label_scored as chosen.
_MU = (
    "CASE WHEN b.mu_scored IS NULL THEN NULL "
    "WHEN b.label_scored = b.label THEN b.mu_scored ELSE -b.mu_scored END"
)
_PREFERENCE = "b.label IN ('a', 'b')"


def _filter_clauses(spec: ExportSpec) -> list[str]:
    """SQL conditions, in the order the dataset card reports them."""
    clauses = []
    if spec.reviewed_only:
        clauses.append("b.reviewed")  # a reviewer's keep, flip or tie sets the label
    if spec.drop_flagged:
        clauses.append("b.flags IS NULL")
    if spec.min_strength is not None:
        clauses.append(f"({_MU}) >= %(min_strength)s")
    return clauses


def _params(*, project: Project, spec: ExportSpec, source: ScoreSource, split: str | None) -> dict:
    return {
        "project": project.pk,
        "run": source.run_id,
        "split": split,
        "min_strength": spec.min_strength,
    }


def check_spec(*, spec: ExportSpec, project: Project | None = None) -> None:
    """Raise ExportError for filters PrefLab has no data for."""
    if spec.style not in ExportSnapshot.Style.values:
        raise ExportError(f"unknown style {spec.style!r}")
    if spec.reviewed_only:
        table = review_source()
        if table is None:
            raise ExportError("reviewed only: PrefLab has no review app, so no pair is reviewed")
        if project is not None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT EXISTS (SELECT 1 FROM {table} WHERE project_id = %s "
                    "AND outcome IN ('keep', 'flip', 'tie'))",
                    [project.pk],
                )
                row = cursor.fetchone()
            if not (row and row[0]):
                raise ExportError(
                    "reviewed only: this project has no review decisions that set a label "
                    "(keep, flip or tie) yet, so no pair would be exported"
                )


def export_sql(
    *,
    project: Project,
    spec: ExportSpec,
    split: str,
    source: ScoreSource | None = None,
    witnesses: list[int] | None = None,
    id_range: tuple[int, int],
    first: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The query whose rows are the JSON lines of one split file, in pair id order, of the
    pairs with ids in ``id_range``: with ``first``, only the ``witnesses`` pairs; else every
    pair but them."""
    source = source or score_source(project=project)
    if spec.style == ExportSnapshot.Style.CONVERSATIONAL:
        prompt = (
            "coalesce(pr.conversation, jsonb_build_array("
            "jsonb_build_object('role', 'user', 'content', pr.text)))"
        )
        chosen = (
            "jsonb_build_array(jsonb_build_object('role', 'assistant', 'content', "
            "CASE WHEN b.label = 'a' THEN ra.text ELSE rb.text END))"
        )
        rejected = (
            "jsonb_build_array(jsonb_build_object('role', 'assistant', 'content', "
            "CASE WHEN b.label = 'a' THEN rb.text ELSE ra.text END))"
        )
    else:
        prompt = "pr.transcript"  # HH-RLHF's layout, stored with the prompt
        chosen = "CASE WHEN b.label = 'a' THEN ra.text ELSE rb.text END"
        rejected = "CASE WHEN b.label = 'a' THEN rb.text ELSE ra.text END"
    margin = (
        f"greatest(coalesce({_MU}, 0), 0)::float8 AS margin, "
        if spec.with_margin and source.has_scores
        else ""
    )
    picked = "b.id = ANY(%(witnesses)s)" if first else "NOT (b.id = ANY(%(witnesses)s))"
    where = " AND ".join([_PREFERENCE, *_filter_clauses(spec), picked])
    sql = f"""
        SELECT row_to_json(r)::text AS line, r.pair_id FROM (
            SELECT {prompt} AS prompt, {chosen} AS chosen, {rejected} AS rejected, {margin}
                b.id AS pair_id, b.split, b.label_source, b.agreement AS human_agreement,
                {_MU} AS mu, b.sigma, b.flags
            FROM ({_base_sql(source=source, split=split, only_witnesses=first)}
                  ORDER BY p.id) b
            JOIN pairs_prompt pr ON pr.id = b.prompt_id
            JOIN pairs_response ra ON ra.id = b.response_a_id
            JOIN pairs_response rb ON rb.id = b.response_b_id
            WHERE {where}
            ORDER BY b.id
        ) r
    """
    params = _params(project=project, spec=spec, source=source, split=split)
    params["witnesses"] = list(witnesses or [])
    params["lo"], params["hi"] = id_range
    params["piece_ids"] = PIECE_IDS
    return _in_pieces(sql), params


def _in_pieces(rows_sql: str) -> str:
    """The (line, pair_id) rows of ``rows_sql`` joined into pieces of the lines of up to
    PIECE_IDS consecutive pair ids, in pair id order: one COPY row per piece, not per line."""
    return f"""
        SELECT string_agg(line, E'\\n' ORDER BY pair_id) FROM ({rows_sql}) l
        GROUP BY pair_id / %(piece_ids)s ORDER BY pair_id / %(piece_ids)s
    """


# For each column that may be null: the first exported pair that has a value in it. These
# pairs open each file (see export_rows), so a reader that guesses column types from the start
# of a file (datasets' JSON loader reads 10 MB at a time) sees every column's type at once.
WITNESSES = {
    "witness_agreement": "b.agreement",
    "witness_scored": "b.mu_scored",
    "witness_flagged": "b.flags",
}


def export_counts(
    *, project: Project, spec: ExportSpec, source: ScoreSource | None = None
) -> dict[str, dict[str, int]]:
    """Per split: pairs considered, those left out (by the first reason that applies, in the
    card's order) and those exported, from one pass over the project's pairs."""
    source = source or score_source(project=project)
    split = spec.split or None
    cases = [
        ("dropped", "b.label_source = 'dropped'"),
        ("unlabelled", "b.label NOT IN ('a', 'b', 'tie', 'both_bad')"),
        ("tie", "b.label IN ('tie', 'both_bad')"),
    ]
    names = {"b.reviewed": "not_reviewed", "b.flags IS NULL": "flagged"}
    for clause in _filter_clauses(spec):
        cases.append((names.get(clause, "below_strength"), f"NOT coalesce({clause}, FALSE)"))
    # Each pair is put under the first reason that leaves it out, once, and the pairs are
    # counted by split and reason: one expression per pair rather than a filter per figure.
    reason = " ".join(f"WHEN {condition} THEN '{name}'" for name, condition in cases)
    extras = [
        "count(*) FILTER (WHERE b.label_source = 'votes') AS from_votes",
        "count(*) FILTER (WHERE b.mu_scored IS NOT NULL) AS scored",
        "count(*) FILTER (WHERE b.flags IS NOT NULL) AS flagged_kept",
        *(
            f"min(b.id) FILTER (WHERE {column} IS NOT NULL) AS {name}"
            for name, column in WITNESSES.items()
        ),
        "min(b.id) AS first_id",
        "max(b.id) AS last_id",
    ]
    sql = f"""
        SELECT b.split, b.reason, count(*) AS pairs, {", ".join(extras)}
        FROM (
            SELECT b.*, CASE {reason} ELSE 'exported' END AS reason
            FROM ({_base_sql(source=source, split=split)}) b
        ) b
        GROUP BY b.split, b.reason ORDER BY b.split
    """
    params = _params(project=project, spec=spec, source=source, split=split)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(id), max(id) FROM pairs_pair WHERE project_id = %(project)s"
            + (" AND split = %(split)s" if split is not None else ""),
            params,
        )
        params["lo"], params["hi"] = cursor.fetchone() or (None, None)
        if params["lo"] is None:  # no pairs
            return {}
        cursor.execute(sql, params)
        names_out = [c.name for c in cursor.description]
        rows = cursor.fetchall()
    # figures of the exported pairs alone: counts, and ids (None where a split exports none)
    tallies = ("from_votes", "scored", "flagged_kept")
    ids = (*WITNESSES, "first_id", "last_id")
    blank = {
        "pairs": 0,
        **dict.fromkeys([*(name for name, _ in cases), "exported", *tallies], 0),
        **dict.fromkeys(ids),
    }
    counts: dict[str, dict[str, Any]] = {}
    for row in rows:
        values = dict(zip(names_out, row, strict=True))
        split_counts = counts.setdefault(values["split"], dict(blank))
        split_counts["pairs"] += values["pairs"]
        split_counts[values["reason"]] = values["pairs"]
        if values["reason"] == "exported":
            split_counts.update({name: values[name] for name in (*tallies, *ids)})
    return counts


def export_rows(
    *,
    project: Project,
    spec: ExportSpec,
    split: str,
    source: ScoreSource | None = None,
    witnesses: list[int] | None = None,
    id_range: tuple[int, int] | None = None,
    chunk_ids: int | None = None,
    block_bytes: int | None = None,
    streams: int | None = None,
) -> Iterator[bytes]:
    """The JSON lines of one split file, as blocks of whole lines (each ending in a newline)
    of about ``block_bytes``, streamed from PostgreSQL by COPY: flat memory at any size.

    The ``witnesses`` pairs (see WITNESSES) come first, then the others in id order, one COPY
    per ``chunk_ids`` (CHUNK_IDS) ids of ``id_range``. Between two COPY statements the
    generator yields an empty block: the caller's database connection is free then (and,
    with several streams, always).

    With ``streams`` (STREAMS) above 1 and no transaction open, the statements run on that many
    connections of their own at once, each a few statements ahead of the one being read,
    with at most STREAM_BUFFER_BYTES waiting per stream: PostgreSQL builds the rows of
    several id ranges in parallel, and the blocks still come out in order, exactly as one
    connection gives them. Inside a transaction (uncommitted rows are invisible to other
    connections) one connection does it all.
    """
    block_bytes = block_bytes or BLOCK_BYTES
    streams = streams or STREAMS or settings.EXPORT_STREAMS
    lo, hi = id_range or (0, 2**63 - 1)
    parallel = streams > 1 and not connection.in_atomic_block
    chunk_ids = chunk_ids or (PARALLEL_CHUNK_IDS if parallel else CHUNK_IDS)
    step = chunk_ids if id_range else hi + 1  # no range given: one statement
    ranges: list[tuple[int, int, bool]] = [(lo, hi, True)] if witnesses else []
    start = lo
    while start <= hi:
        end = min(hi, start + step - 1)
        ranges.append((start, end, False))
        start = end + 1
    statements = []
    for first_id, last_id, first in ranges:
        sql, params = export_sql(
            project=project,
            spec=spec,
            split=split,
            source=source,
            witnesses=witnesses,
            first=first,
            id_range=(first_id, last_id),
        )
        statements.append((sql, params))
    if parallel and len(statements) > 1:
        yield from _parallel_blocks(statements, streams=streams, block_bytes=block_bytes)
        return
    with connection.cursor() as cursor:
        for sql, params in statements:
            yield from _blocks(cursor.cursor, sql, params, block_bytes=block_bytes)
            yield b""


# COPY's binary format sends each text value as it is, after its length: the text format
# would escape every backslash (and JSON text has plenty) and the CSV format looks at every
# byte for its quote character, each a pass over all the lines. Each row of the stream is
# one COPY data message (PostgreSQL sends one per row): a field count (2 bytes, here 1), the
# piece's length (4 bytes) and the piece; the first message starts with the format's header
# and the last one is the trailer, a field count of -1.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00"
_HEADER_BYTES = len(_BINARY_HEADER) + 8  # signature, flags, header extension length (0)
_ROW_PREFIX = 6
_TRAILER = b"\xff\xff"


def _copy_out(raw: Any, sql: str, params: dict[str, Any]) -> Iterator[memoryview]:
    """The rows of ``COPY (sql) TO STDOUT`` on a psycopg cursor, one text value each (a piece
    of JSON lines, see export_sql), without a newline at its end."""
    work_mem = f"SET LOCAL work_mem = '{WORK_MEM}'"
    # COPY takes no bind parameters: psycopg quotes them into the statement client-side
    statement = psycopg.ClientCursor(raw.connection).mogrify(sql, params)
    with raw.connection.transaction():
        raw.execute(work_mem)  # sorts and hashes of one id range in memory, not on disk
        with raw.copy(f"COPY ({statement}) TO STDOUT (FORMAT binary)") as copy:
            first = True
            for data in copy:
                row = memoryview(data)
                if first:
                    if bytes(row[: len(_BINARY_HEADER)]) != _BINARY_HEADER:
                        raise psycopg.DataError("COPY sent no binary header")
                    row, first = row[_HEADER_BYTES:], False
                if not row or row == _TRAILER:  # a header sent alone, or the end
                    continue
                if int.from_bytes(row[2:_ROW_PREFIX], "big", signed=True) != len(row) - _ROW_PREFIX:
                    raise psycopg.DataError("a COPY data message held other than one row")
                yield row[_ROW_PREFIX:]


def _lines(pieces: list[memoryview]) -> bytes:
    """Pieces of JSON lines as one block, each line ending in a newline, copied once."""
    return b"\n".join([*pieces, b""])


def _blocks(raw: Any, sql: str, params: dict[str, Any], *, block_bytes: int) -> Iterator[bytes]:
    """The JSON lines of one COPY statement, as blocks of whole lines of about block_bytes."""
    pieces: list[memoryview] = []
    size = 0
    for piece in _copy_out(raw, sql, params):
        pieces.append(piece)
        size += len(piece) + 1
        if size >= block_bytes:
            yield _lines(pieces)
            pieces, size = [], 0
    if pieces:
        yield _lines(pieces)


_DONE = object()


def _parallel_blocks(
    statements: list[tuple[str, dict[str, Any]]], *, streams: int, block_bytes: int
) -> Iterator[bytes]:
    """The blocks of each statement in turn, the statements run ``streams`` at a time, each on
    a connection of its worker thread (Django gives every thread its own). A worker hands its
    blocks over through a bounded queue, so a stream that is ahead waits rather than grows."""
    stop = threading.Event()
    depth = max(2, STREAM_BUFFER_BYTES // block_bytes)
    queues = [queue.Queue[Any](maxsize=depth) for _ in statements]

    def put(q: queue.Queue[Any], item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def work(index: int) -> None:
        q = queues[index]
        if stop.is_set():
            return
        sql, params = statements[index]
        try:
            with connection.cursor() as cursor:
                for block in _blocks(cursor.cursor, sql, params, block_bytes=block_bytes):
                    if not put(q, block):
                        return
            put(q, _DONE)
        except BaseException as exc:  # handed to the reader, which raises it
            put(q, exc)
        finally:
            connection.close()  # this thread's own connection

    pool = ThreadPoolExecutor(max_workers=streams, thread_name_prefix="export-copy")
    try:
        for index in range(len(statements)):
            pool.submit(work, index)
        for q in queues:
            while (item := q.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
            yield b""
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


# --- snapshots ------------------------------------------------------------------------------

SAFE_SPLIT = re.compile(r"[^A-Za-z0-9_]+")


def split_file_stem(split: str, taken: set[str]) -> str:
    """A file (and Hugging Face split) name for a split: word characters only, unique."""
    stem = SAFE_SPLIT.sub("_", split).strip("_")[:60] or "split"
    if stem[0].isdigit():
        stem = f"split_{stem}"
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}_{n}", n + 1
    taken.add(candidate)
    return candidate


def snapshots_for_project(*, project: Project) -> QuerySet[ExportSnapshot]:
    return (
        ExportSnapshot.objects.filter(project=project)
        .select_related("created_by", "job")
        .order_by("-version")
    )


def snapshot_for_user(
    *, user: Any, snapshot_id: int, min_role: str = Membership.Role.REVIEWER
) -> tuple[ExportSnapshot, str]:
    """The snapshot and the user's role in its project, or 404. Exports hold every label, so
    annotators never see them."""
    from django.http import Http404

    snapshot = (
        ExportSnapshot.objects.filter(pk=snapshot_id)
        .select_related("project", "created_by", "job")
        .first()
    )
    if snapshot is None:
        raise Http404("No such export")
    _, role = project_for_user(user=user, project_id=snapshot.project_id, min_role=min_role)
    return snapshot, role
