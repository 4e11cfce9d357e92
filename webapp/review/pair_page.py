"""Reads of one pair's review page (its votes, human label, latest score with each model's
margin, flags, decisions) and of its history, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection

from webapp.flags.models import Flag
from webapp.pairs.labels import EffectiveLabel, effective_label
from webapp.pairs.models import Pair
from webapp.projects.models import Project
from webapp.review.models import ReviewDecision, ReviewItem
from webapp.review.selectors import SOURCE_NAMES, flag_kind_label
from webapp.scoring.models import PairScore, ScoringRun

SCORES = PairScore._meta.db_table
SCORING_RUNS = ScoringRun._meta.db_table


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
            f"""
            SELECT r.id, s.mu, s.sigma, s.label_scored, s.margins, r.member_names
            FROM {SCORING_RUNS} r
            JOIN {SCORES} s ON s.run_id = r.id AND s.pair_id = %(pair)s
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
