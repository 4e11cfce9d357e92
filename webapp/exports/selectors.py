"""Reads for exports: the rows of a dataset, straight out of PostgreSQL (snapshot lookups are
in snapshots.py).

``export_sql`` is the one place that decides what a row of an exported dataset holds. Each row
is built by PostgreSQL as a finished JSON object (``row_to_json``), the lines of 16 pairs to a
COPY row, and ``webapp.exports.streaming`` streams them with ``COPY (SELECT ...) TO STDOUT``:
Python never holds more than one block of lines, never builds a dict per pair, and the same
JSON feeds both writers (JSON Lines as is, Parquet through pyarrow's JSON reader).

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
      max(mu, 0), the preference strength TRL's reward loss subtracts; 0 where mu is unknown;
  attribute, margin (projects that label items: always)
      the derived pair's attribute ("" overall) and the mean rank or rating gap of the answers
      it comes from, in the chosen response's favour, at least 0.

A project with no complete scoring run has null mu and sigma and only the flags of checks,
so an export works at every stage of a project.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection

from webapp.exports.models import ExportSnapshot
from webapp.flags.models import Flag
from webapp.pairs.labels import effective_label_sql
from webapp.projects.models import Project
from webapp.projects.schemes import labels_items
from webapp.review.models import PairReview
from webapp.scoring.models import PairScore
from webapp.scoring.selectors import latest_complete_run_id

# Pair ids whose JSON lines PostgreSQL sends as one COPY row, a piece: each COPY row costs
# the exporting process several microseconds, far more than writing a 1 KB line does. A piece
# is one text value, which PostgreSQL caps at 1 GB: 16 lines may hold 64 MB each.
PIECE_IDS = 16


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
    # A steps project's layout: "stepwise" (the default) or "first_error" (exports/steps.py).
    layout: str = ""

    def filters(self) -> dict[str, Any]:
        values = asdict(self)
        keys = ("drop_flagged", "min_strength", "reviewed_only", "split")
        return {k: values[k] for k in keys} | ({"layout": self.layout} if self.layout else {})

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
            layout=str(f.get("layout") or ""),
        )


@dataclass(frozen=True)
class ScoreSource:
    """The scoring run whose mu / sigma / flags one export reads (None: none yet)."""

    run_id: int | None

    @property
    def has_scores(self) -> bool:
        return self.run_id is not None


def score_source(*, project: Project) -> ScoreSource:
    """The project's latest complete scoring run."""
    return ScoreSource(run_id=latest_complete_run_id(project=project))


def _base_sql(*, source: ScoreSource, split: str | None, only_witnesses: bool = False) -> str:
    """The project's pairs with ids from %(lo)s to %(hi)s (only the %(witnesses)s with
    ``only_witnesses``), of one split if given, with their effective label, scores and flags,
    one row per pair. The id bounds keep every aggregate below (votes, flags) to the pairs
    read; the joins to the project's pairs do the rest.
    Placeholders: %(project)s, %(run)s, %(split)s, %(lo)s, %(hi)s, %(witnesses)s."""
    ids = "= ANY(%(witnesses)s)" if only_witnesses else "BETWEEN %(lo)s AND %(hi)s"
    label = effective_label_sql(pair="p", votes_where=f"v.pair_id {ids}")
    scores = (
        f"LEFT JOIN {PairScore._meta.db_table} s ON s.pair_id = p.id AND s.run_id = %(run)s"
        if source.has_scores
        else ""
    )
    score_cols = (
        "s.mu AS mu_scored, s.label_scored, s.sigma"
        if source.has_scores
        else "NULL::float8 AS mu_scored, NULL::text AS label_scored, NULL::float8 AS sigma"
    )
    run_clause = (
        "(g.scoring_run_id IS NULL OR g.scoring_run_id = %(run)s)"
        if source.has_scores
        else "g.scoring_run_id IS NULL"
    )
    flags = f"""LEFT JOIN (
            SELECT g.pair_id, array_agg(DISTINCT g.kind ORDER BY g.kind) AS flags
            FROM {Flag._meta.db_table} g
            WHERE g.project_id = %(project)s AND {run_clause} AND g.pair_id {ids}
            GROUP BY g.pair_id
        ) f ON f.pair_id = p.id"""
    split_clause = "AND p.split = %(split)s" if split is not None else ""
    return f"""
        SELECT p.id, p.split, p.prompt_id, p.response_a_id, p.response_b_id,
            p.attribute, p.margin AS derived_margin,
            coalesce({label.label}, '') AS label, {label.source} AS label_source,
            {label.agreement} AS agreement, {label.reviewed} AS reviewed,
            {score_cols}, f.flags
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
    if spec.layout not in ("", "stepwise", "first_error"):
        raise ExportError(f"unknown layout {spec.layout!r}; expected stepwise or first_error")
    steps = project is not None and project.label_scheme == Project.LabelScheme.STEPS
    if spec.layout and not steps:
        raise ExportError("a layout is chosen only for a steps project's export")
    if steps and (spec.reviewed_only or spec.min_strength is not None or spec.with_margin):
        raise ExportError(
            "a steps export takes a layout, a style, a split and drop flagged; reviewed only, "
            "a minimum strength and a margin are for pairs"
        )
    if spec.reviewed_only and project is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {PairReview._meta.db_table} WHERE project_id = %s "
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
    if labels_items(project):
        # A derived pair: its attribute, and the mean rank or rating gap of its answers in
        # the exported chosen response's favour (0 where they disagree with the label).
        margin = (
            "b.attribute, greatest(CASE WHEN b.label = 'a' THEN b.derived_margin "
            "ELSE -b.derived_margin END, 0)::float8 AS margin, "
        )
    elif spec.with_margin and source.has_scores:
        margin = f"greatest(coalesce({_MU}, 0), 0)::float8 AS margin, "
    else:
        margin = ""
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
# pairs open each file (see streaming.export_rows), so a reader that guesses column types from
# the start of a file (datasets' JSON loader reads 10 MB at a time) sees every column's type
# at once.
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
