"""Reads for review: the queue, a pair's review page and history, decisions, ambiguity
requests. Every list is one query or a few, whatever the project's size."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from webapp.flags.models import Flag
from webapp.pairs.models import Pair, Prompt
from webapp.pairs.previews import Preview, preview_sql
from webapp.projects.models import Project
from webapp.review import filters
from webapp.review.filters import QueueFilter
from webapp.review.learning import feature_label, latest_fit, queue_reason
from webapp.review.models import ReviewDecision, ReviewItem, ReviewSettings

PAIRS = Pair._meta.db_table
PROMPTS = Prompt._meta.db_table

PAGE = 50

SOURCE_NAMES = {
    "review": "a reviewer's decision",
    "dropped": "dropped by a reviewer",
    "gold": "gold answer",
    "dawid_skene": "Dawid-Skene aggregate of the votes",
    "majority": "majority of the votes",
    "votes": "majority of the votes (not aggregated yet)",
    "imported": "the imported label",
    "none": "no label",
}


def flag_kind_label(kind: str) -> str:
    """A flag kind's name: the Flag model's own for the kinds it knows, else its words."""
    try:
        return str(Flag.Kind(kind).label)
    except ValueError:
        return kind.replace("_", " ").capitalize()


def flag_kinds(*, project: Project) -> list[tuple[str, str]]:
    """The kinds the Flag model knows, and any other kind the queue held when it was built."""
    kinds = {k.value for k in Flag.Kind}
    charts = ReviewSettings.objects.filter(project=project).values_list("charts", flat=True).first()
    if isinstance(charts, dict):
        kinds.update(str(k) for k in charts.get("kinds", []))
    return sorted((k, flag_kind_label(k)) for k in kinds)


@dataclass
class QueueRow:
    pair_id: int
    rank: int
    severity: int
    kinds: list[str]
    mu: float | None
    sigma: float | None
    split: str
    outcome: str
    prompt: Preview  # the last turn of a conversation
    p_wrong: float | None = None
    exploring: bool = False
    why: list[Any] = field(default_factory=list)  # [[feature, part of the logit], ...]

    @property
    def kind_labels(self) -> list[str]:
        return [flag_kind_label(k) for k in self.kinds]

    @property
    def reason(self) -> str:
        """Why the pair is where it is in the queue, in words."""
        return queue_reason(exploring=self.exploring, why=self.why, p_wrong=self.p_wrong)


def _queue_from(project: Project, queue_filter: QueueFilter) -> tuple[str, dict[str, Any], str]:
    """The FROM and WHERE of the filtered queue, its parameters, and the settings to run it
    with (see _WALK and _FROM_DECISIONS)."""
    where, params = queue_filter.sql()
    params["project"] = project.pk
    outcomes = filters.state_outcomes(queue_filter.state)
    if outcomes and _decisions_few(project, outcomes):
        # Few decisions in force have this state: start from them (the outcome index) and
        # sort them by rank, rather than walk the whole queue looking for them. A queued
        # pair's kind rows carry its rank, so the (project, kind, rank) index finds them.
        kind = (
            "JOIN review_reviewitemkind ik ON ik.project_id = i.project_id "
            "AND ik.rank = i.rank AND ik.pair_id = i.pair_id"
            if queue_filter.by_kind_rows
            else ""
        )
        return (
            f"""FROM review_pairreview rv
            JOIN review_reviewitem i ON i.pair_id = rv.pair_id {kind}
            WHERE rv.project_id = %(project)s AND i.project_id = %(project)s AND {where}""",
            params,
            _FROM_DECISIONS,
        )
    return (
        f"""FROM {queue_filter.source()}
        LEFT JOIN review_pairreview rv ON rv.pair_id = i.pair_id
        WHERE i.project_id = %(project)s AND {where}""",
        params,
        _WALK,
    )


# The queue's filters (review state above all) fool the planner's row estimates into hash
# joins that read every queued pair; walking the rank index with nested loops stops at the
# page's LIMIT (and without parallel workers, whose start costs more than a page's walk).
# A plan steered this way costs more than jit_above_cost (disabled steps count as huge
# costs), so PostgreSQL would compile it first: half a second of JIT for a page's 50 rows.
# These settings hold for the one statement's transaction only.
_WALK = (
    "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
    "SET LOCAL enable_sort = off; SET LOCAL jit = off"
)
# A walk finds the pairs of a review state fast where they are many, and reads the whole
# queue where they are few (50 pairs sent back among a million); up to this many decisions in
# force with the state, the queue starts from them instead and sorts them by rank.
DECISIONS_FEW = 50_000
_FROM_DECISIONS = "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0"


def _decisions_few(project: Project, outcomes: tuple[str, ...]) -> bool:
    """Whether at most DECISIONS_FEW decisions in force have one of these outcomes."""
    with connection.cursor() as cursor:
        # counted on the (project, outcome) index, and only up to the limit
        cursor.execute(
            """SELECT count(*) FROM (SELECT 1 FROM review_pairreview
               WHERE project_id = %s AND outcome = ANY(%s) LIMIT %s) d""",
            [project.pk, list(outcomes), DECISIONS_FEW + 1],
        )
        row = cursor.fetchone()
    return bool(row) and int(row[0]) <= DECISIONS_FEW


# What the queue shows of a prompt: a plain prompt, or a conversation's last turn.
_LAST_TURN = (
    "coalesce(CASE WHEN pr.conversation IS NULL THEN pr.text "
    "ELSE pr.conversation -> -1 ->> 'content' END, '')"
)


def queue_page(
    *, project: Project, queue_filter: QueueFilter, after_rank: int = 0, limit: int = PAGE
) -> list[QueueRow]:
    """One page of the review queue, most severe first (keyset pagination on its rank)."""
    sql, params, plan = _queue_from(project, queue_filter)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(plan)
        cursor.execute(
            f"""
            SELECT q.pair_id, q.rank, q.severity, q.kinds, q.mu, q.sigma, q.split, q.outcome,
                {preview_sql(_LAST_TURN)}, q.p_wrong, q.exploring, q.why
            FROM (
                SELECT i.pair_id, i.rank, i.severity, i.kinds, i.mu, i.sigma, i.split,
                    coalesce(rv.outcome, '') AS outcome, i.p_wrong, i.exploring, i.why
                {sql} AND {queue_filter.order()} > %(after)s
                ORDER BY {queue_filter.order()} LIMIT %(limit)s
            ) q
            JOIN {PAIRS} p ON p.id = q.pair_id JOIN {PROMPTS} pr ON pr.id = p.prompt_id
            ORDER BY q.rank
            """,
            {**params, "after": after_rank, "limit": limit},
        )
        return [_queue_row(row) for row in cursor.fetchall()]


def _queue_row(row: tuple[Any, ...]) -> QueueRow:
    pair_id, rank, severity, kinds, mu, sigma, split, outcome, head, length = row[:10]
    p_wrong, exploring, why = row[10:]
    return QueueRow(
        pair_id, rank, severity, kinds, mu, sigma, split, outcome, Preview(head, length),
        p_wrong, exploring,
        # raw SQL hands jsonb over as text (Django decodes it for its JSONFields only)
        json.loads(why) if isinstance(why, str) else list(why or []),
    )  # fmt: skip


COUNT_CAP = 1000


def queue_count(*, project: Project, queue_filter: QueueFilter, cap: int = COUNT_CAP) -> int:
    """How many queued pairs match, counted up to ``cap`` + 1 (a page says "more than cap";
    a bulk preview counts them all)."""
    sql, params, plan = _queue_from(project, queue_filter)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(plan)
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 {sql} LIMIT %(cap)s) c", {**params, "cap": cap + 1}
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def queue_next(*, project: Project, queue_filter: QueueFilter, after_pair_id: int) -> int | None:
    """The pair after this one in the filtered queue (the first one if it is not queued).

    In the learning order, for any or the undecided review state: the first undecided pair
    of the filter, whatever this one's place. The noise model reorders the queue as
    answers come in, so the next pair is the one most likely wrong now, not the one that
    came after this pair when the queue was last ranked."""
    settings = review_settings_get(project=project)
    if settings.queue_order == ReviewSettings.QueueOrder.LEARNING and queue_filter.state in (
        "",
        "undecided",
    ):
        undecided = dataclasses.replace(queue_filter, state="undecided")
        rows = queue_page(project=project, queue_filter=undecided, limit=2)
        following = [r.pair_id for r in rows if r.pair_id != after_pair_id]
        return following[0] if following else None
    rank = (
        ReviewItem.objects.filter(project=project, pair_id=after_pair_id)
        .values_list("rank", flat=True)
        .first()
    )
    rows = queue_page(project=project, queue_filter=queue_filter, after_rank=rank or 0, limit=1)
    if rows and rows[0].pair_id != after_pair_id:
        return rows[0].pair_id
    return None


def review_settings_get(*, project: Project) -> ReviewSettings:
    return ReviewSettings.objects.filter(project=project).first() or ReviewSettings(project=project)


def project_annotators(*, project: Project) -> list[tuple[int, str]]:
    from webapp.projects.models import Membership

    return list(
        Membership.objects.filter(project=project)
        .order_by("user__username")
        .values_list("user_id", "user__username")
    )


def project_splits(*, project: Project) -> list[str]:
    with connection.cursor() as cursor:
        # the (project, split, id) index answers this with a skip over its splits
        cursor.execute(
            f"""
            WITH RECURSIVE s AS (
                (SELECT split FROM {PAIRS} WHERE project_id = %(p)s ORDER BY split LIMIT 1)
                UNION ALL
                SELECT (SELECT split FROM {PAIRS} WHERE project_id = %(p)s AND split > s.split
                        ORDER BY split LIMIT 1) FROM s WHERE s.split IS NOT NULL
            ) SELECT split FROM s WHERE split IS NOT NULL
            """,
            {"p": project.pk},
        )
        return [row[0] for row in cursor.fetchall()]


# --- one pair -------------------------------------------------------------------------------


# --- decisions ------------------------------------------------------------------------------


def decisions_for_project(*, project: Project) -> QuerySet[ReviewDecision]:
    return ReviewDecision.objects.filter(project=project).select_related("reviewer").order_by("-id")


def decisions_for_pair(*, project: Project, pair_id: int) -> QuerySet[ReviewDecision]:
    return (
        ReviewDecision.objects.filter(project=project, pair_id=pair_id)
        .select_related("reviewer")
        .order_by("id")
    )


# --- ambiguity-driven votes -----------------------------------------------------------------


@dataclass
class PrecisionRow:
    kind: str
    label: str
    answered: int
    confirmed: int
    share: float | None
    low: float | None
    high: float | None

    @property
    def text(self) -> str:
        """E.g. "61% confirmed, 44 of 72 reviewed"."""
        if not self.answered or self.share is None:
            return "none reviewed yet"
        return f"{self.share:.0%} confirmed, {self.confirmed} of {self.answered} reviewed"

    @property
    def interval(self) -> str:
        if self.low is None or self.high is None:
            return ""
        return f"{self.low:.0%} to {self.high:.0%}"


@dataclass
class LearningView:
    """What the queue and the dashboards say about the noise model and the flags' precision."""

    order: str
    fit: Any  # the latest complete NoiseFit, or None
    precision: list[PrecisionRow]
    coefficients: list[tuple[str, float]]  # the model's features, strongest first


def learning_view(*, project: Project) -> LearningView:
    settings = review_settings_get(project=project)
    fit = latest_fit(project=project)
    rows = []
    for p in fit.metrics.get("precision", []) if fit is not None else []:
        share = p["confirmed"] / p["answered"] if p["answered"] else None
        rows.append(PrecisionRow(p["kind"], flag_kind_label(p["kind"]), p["answered"],
                                 p["confirmed"], share, p["low"], p["high"]))  # fmt: skip
    coefficients = sorted(
        ((feature_label(k), float(v)) for k, v in (fit.coefficients if fit else {}).items()),
        key=lambda kv: -abs(kv[1]),
    )
    return LearningView(settings.queue_order, fit, rows, coefficients)
