"""The effective label of a pair: the one rule every part of PrefLab asks.

Order of authority:
  1. the review decision in force on the pair (``webapp.review``): keep, flip or tie set the
     label (source "review"); drop leaves the pair without one (label "", source "dropped"),
     so exports and scoring leave it out; "send back for more votes", or an undo back to no
     decision, sets nothing and the rules below apply;
  2. the pair's aggregated human label (gold answer, Dawid-Skene or majority, as the last
     aggregation computed it; "both bad" counts as a tie);
  3. a plain majority of its decisive (A / B) votes, when they are newer than any aggregation
     ("votes"; an even split is a tie);
  4. on a pair nobody voted on, the verdict of the one judge the project lets fill in missing
     votes (``webapp.judges``; source "judge"), where an admin chose one;
  5. the label the pair was imported with ("imported", or "none" for an unlabelled pair).

``effective_label_sql`` writes that rule as SQL over a pair row, so Python callers
(``effective_labels``, ``effective_label``) and set-based ones (exports, the review queue's
bulk actions) apply literally the same rule.

The rule reads the tables of two later stages (labelling's votes and human labels, review's
decisions in force): that is the pipeline's loop, review decisions and new votes changing the
labels the next scoring run reads. Those tables are found through Django's app registry, by
model name, so nothing here imports a later stage (see webapp/stages.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import connection

from webapp.pairs.models import Pair
from webapp.projects.models import Project


@dataclass(frozen=True, slots=True)
class EffectiveLabel:
    label: str  # "a" | "b" | "tie" | ""
    # "review" | "dropped" | "gold" | "dawid_skene" | "majority" | "votes" | "judge" | "imported"
    # | "none"
    source: str
    # confidence of a human label: Dawid-Skene posterior or share of votes that agree
    agreement: float | None


@dataclass(frozen=True, slots=True)
class LabelSql:
    """SQL pieces over a pair row aliased ``pair``: LEFT JOINs to add after it, and the
    expressions of the effective label, its source, its agreement and whether a reviewer's
    decision sets it."""

    joins: str
    label: str
    source: str
    agreement: str
    reviewed: str
    # the label and source the pair would have without any review decision
    label_unreviewed: str
    source_unreviewed: str


REVIEW_LABELS = "('keep', 'flip', 'tie')"


def _table(app_label: str, model: str) -> str:
    return str(apps.get_model(app_label, model)._meta.db_table)


def effective_label_sql(*, pair: str = "p", votes_where: str = "TRUE") -> LabelSql:
    """The rule as SQL. ``votes_where`` narrows the vote aggregate (over ``labelling_vote v``),
    so a caller can keep it to the pairs it reads; the join to ``pair`` does the rest."""
    joins = f"""
        LEFT JOIN {_table("review", "PairReview")} rv ON rv.pair_id = {pair}.id
        LEFT JOIN (
            SELECT v.pair_id, count(*) FILTER (WHERE v.choice = 'a') AS a,
                count(*) FILTER (WHERE v.choice = 'b') AS b
            FROM {_table("labelling", "Vote")} v
            WHERE v.choice IN ('a', 'b') AND {votes_where}
            GROUP BY v.pair_id
        ) va ON va.pair_id = {pair}.id
        LEFT JOIN {_table("labelling", "HumanLabel")} hl ON hl.pair_id = {pair}.id
        LEFT JOIN {_table("judges", "JudgeVerdict")} jf ON jf.pair_id = {pair}.id
            AND jf.judge_id IN (SELECT j.id FROM {_table("judges", "Judge")} j
                WHERE j.fills_missing AND j.project_id = {pair}.project_id)
    """
    voted = "coalesce(va.a, 0) + coalesce(va.b, 0) > 0"
    review_label = f"""WHEN rv.outcome IN {REVIEW_LABELS} THEN rv.label
            WHEN rv.outcome = 'drop' THEN ''"""
    human_label = f"""WHEN hl.pair_id IS NOT NULL
                THEN CASE WHEN hl.label = 'both_bad' THEN 'tie' ELSE hl.label END
            WHEN NOT ({voted}) AND jf.choice IS NOT NULL THEN jf.choice
            WHEN NOT ({voted}) THEN {pair}.imported_label
            WHEN va.a > va.b THEN 'a' WHEN va.b > va.a THEN 'b' ELSE 'tie' END"""
    review_source = f"""WHEN rv.outcome IN {REVIEW_LABELS} THEN 'review'
            WHEN rv.outcome = 'drop' THEN 'dropped'"""
    human_source = f"""WHEN hl.pair_id IS NOT NULL THEN hl.source
            WHEN {voted} THEN 'votes'
            WHEN jf.choice IS NOT NULL THEN 'judge'
            WHEN {pair}.imported_label <> '' THEN 'imported' ELSE 'none' END"""
    label = f"CASE {review_label} {human_label}"
    source = f"CASE {review_source} {human_source}"
    agreement = f"""CASE
            WHEN rv.outcome IN {REVIEW_LABELS} OR rv.outcome = 'drop' THEN NULL
            WHEN hl.pair_id IS NOT NULL THEN hl.confidence
            WHEN {voted} THEN greatest(va.a, va.b)::float8 / (va.a + va.b) END"""
    reviewed = f"coalesce(rv.outcome IN {REVIEW_LABELS}, FALSE)"
    return LabelSql(
        joins=joins,
        label=label,
        source=source,
        agreement=agreement,
        reviewed=reviewed,
        label_unreviewed=f"CASE {human_label}",
        source_unreviewed=f"CASE {human_source}",
    )


def _select(where: str, *, with_review: bool = True) -> str:
    parts = effective_label_sql(
        pair="p",
        votes_where=(
            f"EXISTS (SELECT 1 FROM {Pair._meta.db_table} vp WHERE vp.id = v.pair_id "
            "AND vp.project_id = %(project)s)"
            if where == "project"
            else "v.pair_id = %(pair)s"
        ),
    )
    condition = "p.project_id = %(project)s" + (" AND p.id = %(pair)s" if where == "pair" else "")
    label, source = (
        (parts.label, parts.source)
        if with_review
        else (parts.label_unreviewed, parts.source_unreviewed)
    )
    agreement = parts.agreement if with_review else parts.agreement.replace("rv.outcome", "NULL")
    return f"""
        SELECT p.id, {label}, {source}, {agreement}
        FROM {Pair._meta.db_table} p {parts.joins}
        WHERE {condition}
    """


def effective_labels(*, project: Project) -> dict[int, EffectiveLabel]:
    """Every pair of the project with its effective label, in one set-based query."""
    with connection.cursor() as cursor:
        cursor.execute(_select("project"), {"project": project.pk})
        rows = cursor.fetchall()
    return {row[0]: EffectiveLabel(row[1] or "", row[2], row[3]) for row in rows}


def effective_label(
    *, project: Project, pair_id: int, with_review: bool = True
) -> EffectiveLabel | None:
    """One pair's effective label (None for a pair not in the project). ``with_review=False``
    gives the label it would have without any review decision (rules 2 to 4)."""
    with connection.cursor() as cursor:
        sql = _select("pair", with_review=with_review)
        cursor.execute(sql, {"project": project.pk, "pair": pair_id})
        row = cursor.fetchone()
    return None if row is None else EffectiveLabel(row[1] or "", row[2], row[3])
