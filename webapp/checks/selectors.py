"""Reads for the checks page: the latest run, position bias and self-agreement from the votes
(live, not stored with a run), the pairs the checks flagged, and the charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from webapp.checks.models import CheckRun
from webapp.flags.models import Flag
from webapp.labelling.models import Assignment, RepeatAnswer, Vote
from webapp.pairs.models import Pair
from webapp.pairs.previews import with_previews
from webapp.projects.models import Project

PAIRS = Pair._meta.db_table
USERS = get_user_model()._meta.db_table
VOTES = Vote._meta.db_table

CHECK_KINDS = (
    Flag.Kind.CONTRAST_INCONSISTENT,
    Flag.Kind.LABEL_CYCLE,
    Flag.Kind.ENSEMBLE_CYCLE,
    Flag.Kind.NEAR_IDENTICAL,
    Flag.Kind.DUPLICATE_CONFLICT,
)


def check_run_latest(*, project: Project) -> CheckRun | None:
    return CheckRun.objects.filter(project=project, complete=True).order_by("-id").first()


@dataclass(frozen=True)
class SideShare:
    name: str
    decisive: int  # A-or-B votes cast through the labelling page (sides known)
    left: int  # of those, how many picked the response shown on the left
    p_value: float | None  # two-sided binomial test against 50%

    @property
    def left_share(self) -> float | None:
        return self.left / self.decisive if self.decisive else None


def _binom_p(k: int, n: int) -> float | None:
    if n == 0:
        return None
    from scipy.stats import binomtest

    return float(binomtest(k, n, 0.5).pvalue)


def position_bias(*, project: Project) -> tuple[SideShare, list[SideShare]]:
    """Overall and per annotator: how often the left response wins. Votes imported from files
    have no screen sides and are left out. One query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT u.username,
                   count(*) FILTER (WHERE v.choice IN ('a', 'b')),
                   count(*) FILTER (WHERE v.choice IN ('a', 'b')
                                    AND (v.choice = 'a') = (v.shown_order = 'ab'))
            FROM {VOTES} v
            JOIN {PAIRS} p ON p.id = v.pair_id
            JOIN {USERS} u ON u.id = v.annotator_id
            WHERE p.project_id = %s AND v.assignment_id IS NOT NULL
            GROUP BY u.username ORDER BY u.username
            """,
            [project.pk],
        )
        rows = cursor.fetchall()
    people = [SideShare(name, n, left, _binom_p(left, n)) for name, n, left in rows]
    n, left = sum(p.decisive for p in people), sum(p.left for p in people)
    return SideShare("all annotators", n, left, _binom_p(left, n)), people


@dataclass(frozen=True)
class SelfAgreement:
    name: str
    repeats: int  # pairs answered twice, the second time with A and B swapped
    same: int  # ... with the same answer both times
    same_side: int  # decisive both times and the same screen side both times (so: flipped)

    @property
    def share(self) -> float | None:
        return self.same / self.repeats if self.repeats else None


def self_agreement(*, project: Project) -> list[SelfAgreement]:
    """Per annotator, their answers to repeated pairs against their first vote. One query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT u.username, count(*),
                   count(*) FILTER (WHERE ra.choice = v.choice),
                   count(*) FILTER (WHERE ra.choice IN ('a', 'b') AND v.choice IN ('a', 'b')
                       AND ((ra.choice = 'a') = (ra.shown_order = 'ab'))
                           = ((v.choice = 'a') = (v.shown_order = 'ab')))
            FROM {RepeatAnswer._meta.db_table} ra
            JOIN {Assignment._meta.db_table} r ON r.id = ra.assignment_id
            JOIN {Vote._meta.db_table} v ON v.assignment_id = r.repeat_of_id
            JOIN {get_user_model()._meta.db_table} u ON u.id = ra.annotator_id
            WHERE ra.project_id = %s
            GROUP BY u.username ORDER BY u.username
            """,
            [project.pk],
        )
        return [SelfAgreement(*row) for row in cursor.fetchall()]


def checks_flags(*, project: Project, kind: str, limit: int = 20) -> list[Flag]:
    """The first flags of a kind, each with ``.preview`` of its pair's texts."""
    flags = Flag.objects.filter(project=project, source="checks", kind=kind).order_by("pair_id")
    return with_previews(list(flags[:limit]))


def check_charts(
    *, run: CheckRun | None, position: list[SideShare], agreement: list[SelfAgreement]
) -> dict[str, str]:
    """Plotly figures as JSON, drawn by static/js/charts.js."""
    import plotly.graph_objects as go

    layout: dict[str, Any] = {"margin": {"t": 10, "l": 50, "r": 10, "b": 40}, "height": 280}
    charts: dict[str, str] = {}
    summary = run.summary if run else {}
    contrast = summary.get("contrast", {})
    if contrast.get("c_res") is not None:
        fig = go.Figure(go.Bar(x=["C_res", "C_ins"], y=[contrast["c_res"], contrast["c_ins"]],
                               marker_color="#2f5bd3"))  # fmt: skip
        fig.add_hline(y=0.5, line_dash="dash", line_color="#b42318")
        fig.update_layout(yaxis_range=[0, 1], yaxis_title="share consistent", **layout)
        charts["consistency"] = fig.to_json()
    if contrast.get("similarities"):
        fig = go.Figure(go.Histogram(x=contrast["similarities"], nbinsx=30))
        fig.update_layout(xaxis_title="cosine similarity of the two prompts",
                          yaxis_title="contrast pairs", **layout)  # fmt: skip
        charts["similarity"] = fig.to_json()
    bins = summary.get("length", {}).get("bins", {})
    if bins.get("diff"):
        fig = go.Figure(go.Scatter(x=bins["diff"], y=bins["mu"], mode="lines+markers",
                                   text=[f"{c} pairs" for c in bins["count"]]))  # fmt: skip
        fig.add_hline(y=0, line_dash="dash", line_color="#b42318")
        fig.update_layout(xaxis_title="len(A) - len(B), characters (group mean)",
                          yaxis_title="mu = r(A) - r(B)", **layout)  # fmt: skip
        charts["length"] = fig.to_json()
    labels, ens = summary.get("labels_cycles"), summary.get("ensemble_cycles")
    if labels and ens:
        fig = go.Figure(go.Bar(x=["labels", "ensemble"],
                               y=[labels["pairs_on_cycles"], ens["pairs_on_cycles"]]))  # fmt: skip
        fig.update_layout(yaxis_title="pairs on a cycle", **layout)
        charts["cycles"] = fig.to_json()
    shown = [p for p in position if p.decisive]
    if shown:
        fig = go.Figure(go.Bar(x=[p.name for p in shown], y=[p.left_share for p in shown],
                               text=[f"{p.decisive} votes" for p in shown]))  # fmt: skip
        fig.add_hline(y=0.5, line_dash="dash", line_color="#b42318")
        fig.update_layout(yaxis_range=[0, 1], yaxis_title="share of wins on the left", **layout)
        charts["position"] = fig.to_json()
    if agreement:
        fig = go.Figure(go.Bar(x=[a.name for a in agreement], y=[a.share for a in agreement],
                               text=[f"{a.repeats} repeats" for a in agreement]))  # fmt: skip
        fig.update_layout(yaxis_range=[0, 1], yaxis_title="same answer the second time", **layout)
        charts["self_agreement"] = fig.to_json()
    return charts
