"""Reads for review: the queue, a pair's review page and history, decisions, ambiguity
requests. Every list is one query or a few, whatever the project's size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from webapp.flags.models import Flag
from webapp.pairs.labels import EffectiveLabel, effective_label, effective_label_sql
from webapp.pairs.models import Pair
from webapp.projects.models import Project
from webapp.review import filters
from webapp.review.filters import QueueFilter
from webapp.review.models import AmbiguityRequest, ReviewDecision, ReviewItem, ReviewSettings

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
    prompt: str

    @property
    def kind_labels(self) -> list[str]:
        return [flag_kind_label(k) for k in self.kinds]


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
                left(CASE WHEN pr.conversation IS NULL THEN pr.text
                          ELSE pr.conversation -> -1 ->> 'content' END, 160)
            FROM (
                SELECT i.pair_id, i.rank, i.severity, i.kinds, i.mu, i.sigma, i.split,
                    coalesce(rv.outcome, '') AS outcome
                {sql} AND {queue_filter.order()} > %(after)s
                ORDER BY {queue_filter.order()} LIMIT %(limit)s
            ) q
            JOIN pairs_pair p ON p.id = q.pair_id JOIN pairs_prompt pr ON pr.id = p.prompt_id
            ORDER BY q.rank
            """,
            {**params, "after": after_rank, "limit": limit},
        )
        return [QueueRow(*row) for row in cursor.fetchall()]


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
    """The pair after this one in the filtered queue (the first one if it is not queued)."""
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
            """
            WITH RECURSIVE s AS (
                (SELECT split FROM pairs_pair WHERE project_id = %(p)s ORDER BY split LIMIT 1)
                UNION ALL
                SELECT (SELECT split FROM pairs_pair WHERE project_id = %(p)s AND split > s.split
                        ORDER BY split LIMIT 1) FROM s WHERE s.split IS NOT NULL
            ) SELECT split FROM s WHERE split IS NOT NULL
            """,
            {"p": project.pk},
        )
        return [row[0] for row in cursor.fetchall()]


# --- one pair -------------------------------------------------------------------------------


@dataclass
class PairScoreView:
    run_id: int
    mu: float
    sigma: float
    label_scored: str
    margins: list[float]
    members: list[str]


@dataclass
class PairReviewView:
    pair: Pair
    label: EffectiveLabel
    votes: list[Any]
    human: Any  # labelling.HumanLabel or None
    score: PairScoreView | None
    flags: list[Flag]
    decisions: list[ReviewDecision]
    item: ReviewItem | None
    undoable: ReviewDecision | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def source_name(self) -> str:
        return SOURCE_NAMES.get(self.label.source, self.label.source)


def _latest_score(project: Project, pair_id: int) -> PairScoreView | None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT r.id, s.mu, s.sigma, s.label_scored, s.margins, r.member_names
            FROM scoring_scoringrun r
            JOIN scoring_pairscore s ON s.run_id = r.id AND s.pair_id = %(pair)s
            WHERE r.project_id = %(project)s AND r.complete
            ORDER BY r.id DESC LIMIT 1
            """,
            {"project": project.pk, "pair": pair_id},
        )
        row = cursor.fetchone()
    if row is None:
        return None
    members = row[5] if isinstance(row[5], list) else []
    margins = list(row[4] or [])
    if len(members) != len(margins):
        members = [f"model {i + 1}" for i in range(len(margins))]
    return PairScoreView(row[0], row[1], row[2], row[3], margins, [str(m) for m in members])


def pair_review(*, project: Project, pair_id: int) -> PairReviewView | None:
    """Everything the pair's review page shows, in a fixed number of queries."""
    from webapp.labelling.models import HumanLabel, Vote

    pair = (
        Pair.objects.filter(project=project, pk=pair_id)
        .select_related("prompt", "response_a", "response_b")
        .first()
    )
    if pair is None:
        return None
    label = effective_label(project=project, pair_id=pair_id)
    assert label is not None
    votes = list(
        Vote.objects.filter(pair_id=pair_id).select_related("annotator").order_by("created_at")
    )
    human = HumanLabel.objects.filter(pair_id=pair_id).first()
    flags = list(Flag.objects.filter(project=project, pair_id=pair_id).order_by("-severity", "id"))
    for flag in flags:
        setattr(flag, "kind_label", flag_kind_label(flag.kind))  # noqa: B010 (for the template)
    decisions = list(
        ReviewDecision.objects.filter(pair_id=pair_id).select_related("reviewer").order_by("id")
    )
    undone = {d.undoes_id for d in decisions if d.action == ReviewDecision.Action.UNDO}
    targets = [d for d in decisions if d.action != "undo" and d.pk not in undone]
    return PairReviewView(
        pair=pair,
        label=label,
        votes=votes,
        human=human,
        score=_latest_score(project, pair_id),
        flags=flags,
        decisions=decisions,
        item=ReviewItem.objects.filter(project=project, pair_id=pair_id).first(),
        undoable=targets[-1] if targets else None,
    )


def margins_figure(score: PairScoreView) -> dict[str, Any]:
    """Each model's margin as a small bar chart, mu and +-sigma marked."""
    colors = ["#2f5bd3" if m >= 0 else "#b42318" for m in score.margins]
    return {
        "data": [
            {
                "type": "bar",
                "x": score.members,
                "y": score.margins,
                "marker": {"color": colors},
                "hovertemplate": "%{x}: %{y:.3f}<extra></extra>",
            }
        ],
        "layout": {
            "height": 220,
            "margin": {"t": 10, "l": 45, "r": 10, "b": 60},
            "yaxis": {"title": {"text": "r(scored chosen) - r(rejected)"}, "zeroline": True},
            "shapes": [
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": score.mu,
                    "y1": score.mu,
                    "line": {"color": "#111", "dash": "dash"},
                },
                {
                    "type": "rect",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": score.mu - score.sigma,
                    "y1": score.mu + score.sigma,
                    "fillcolor": "rgba(17,17,17,0.08)",
                    "line": {"width": 0},
                },
            ],
        },
    }


@dataclass
class HistoryEvent:
    at: datetime
    kind: str  # import | vote | score | flag | decision | votes_asked
    title: str
    detail: str = ""
    who: str = ""


def pair_history(*, project: Project, pair_id: int) -> list[HistoryEvent] | None:
    """The pair's life in time order: import, votes, scores, flags, decisions."""
    from webapp.labelling.models import Vote
    from webapp.review.models import AmbiguityRequestPair
    from webapp.scoring.models import PairScore

    pair = Pair.objects.filter(project=project, pk=pair_id).select_related("import_batch").first()
    if pair is None:
        return None
    source = pair.source_file + (f", line {pair.source_line}" if pair.source_line else "")
    events = [
        HistoryEvent(
            pair.created_at, "import", f"Imported with label {pair.imported_label or 'none'}",
            source,
        )
    ]  # fmt: skip
    for v in Vote.objects.filter(pair_id=pair_id).select_related("annotator"):
        events.append(
            HistoryEvent(
                v.created_at, "vote", f"Vote: {v.get_choice_display()}", v.rationale,
                v.annotator.get_username(),
            )
        )  # fmt: skip
    scores = PairScore.objects.filter(pair_id=pair_id, run__complete=True).select_related("run")
    for s in scores:
        at = s.run.finished_at or s.run.created_at
        events.append(
            HistoryEvent(
                at, "score", f"Scored by run {s.run_id}: mu {s.mu:.3f}, sigma {s.sigma:.3f}",
                f"label scored {s.label_scored} ({s.label_source}), decile {s.decile}",
            )
        )  # fmt: skip
    for f in Flag.objects.filter(project=project, pair_id=pair_id):
        run = f" by run {f.scoring_run_id}" if f.scoring_run_id else ""
        events.append(
            HistoryEvent(f.created_at, "flag", f"Flagged: {flag_kind_label(f.kind)}{run}", f.source)
        )
    asked = AmbiguityRequestPair.objects.filter(pair_id=pair_id).select_related("request")
    for a in asked:
        events.append(
            HistoryEvent(
                a.request.created_at, "votes_asked",
                f"More votes asked after run {a.request.scoring_run_id} (ambiguous)",
                f"priority {a.priority:.2f}, {a.votes_before} votes then",
            )
        )  # fmt: skip
    for d in ReviewDecision.objects.filter(pair_id=pair_id).select_related("reviewer"):
        title = f"Decision: {d.get_action_display()}"
        if d.action == ReviewDecision.Action.MORE_VOTES:
            title += f" ({d.votes_requested})"
        if d.undoes_id:
            title += f" of decision {d.undoes_id}"
        detail = f"label {d.label_before or 'none'} → {d.label_after or 'none'}"
        if d.flag_kind:
            detail += f"; answers {flag_kind_label(d.flag_kind)}"
        if d.scoring_run_id:
            detail += f" of run {d.scoring_run_id}"
        if d.bulk_id:
            detail += f"; bulk action {d.bulk_id}"
        if d.reason:
            detail += f"; {d.reason}"
        who = d.reviewer.get_username() if d.reviewer else ""
        events.append(HistoryEvent(d.created_at, "decision", title, detail, who))
    order = {"import": 0, "vote": 1, "score": 2, "flag": 3, "votes_asked": 4, "decision": 5}
    events.sort(key=lambda e: (e.at, order.get(e.kind, 9)))
    return events


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
class AmbiguityOutcome:
    request: AmbiguityRequest
    votes_received: int  # votes cast on its pairs since it asked
    pairs_with_new_votes: int
    labels_changed: int  # pairs whose effective label now differs from the one they had


def ambiguity_outcomes(*, project: Project, limit: int = 5) -> list[AmbiguityOutcome]:
    """The latest requests for extra votes and what the votes changed since, set-based."""
    requests = list(AmbiguityRequest.objects.filter(project=project).order_by("-id")[:limit])
    if not requests:
        return []
    parts = effective_label_sql(
        pair="p",
        votes_where="v.pair_id IN (SELECT pair_id FROM review_ambiguityrequestpair "
        "WHERE request_id = ANY(%(ids)s))",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.request_id,
                coalesce(sum(greatest(coalesce(q.votes, 0) - a.votes_before, 0)), 0),
                count(*) FILTER (WHERE coalesce(q.votes, 0) > a.votes_before),
                count(*) FILTER (WHERE coalesce({parts.label}, '') <> a.label_before)
            FROM review_ambiguityrequestpair a
            JOIN pairs_pair p ON p.id = a.pair_id
            LEFT JOIN labelling_queueitem q ON q.pair_id = a.pair_id
            {parts.joins}
            WHERE a.request_id = ANY(%(ids)s)
            GROUP BY a.request_id
            """,
            {"ids": [r.pk for r in requests]},
        )
        found = {row[0]: row[1:] for row in cursor.fetchall()}
    return [AmbiguityOutcome(r, *(int(x) for x in found.get(r.pk, (0, 0, 0)))) for r in requests]
