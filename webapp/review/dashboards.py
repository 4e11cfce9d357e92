"""The review dashboards: one Plotly figure per chart, each with a caption saying how to read
it, built from small inputs only.

Figures that change with a scoring run come from the numbers ``review_queue_rebuild`` stores
per run (ReviewSettings.charts); figures that change with every decision read the decision
tables, which hold only decided pairs; the annotator matrix reads the latest agreement
report. No chart reads the project's pairs one by one, so each answers in milliseconds on a
million pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection

from webapp.projects.models import Project
from webapp.review.models import ReviewSettings
from webapp.review.run_figures import (
    COLORS,
    Figure,
    label_agreement,
    layout,
    mu_by_flag,
    run_charts,
    sigma_vs_mu,
    strength_deciles,
)


@dataclass(frozen=True)
class Chart:
    title: str
    caption: str
    build: Callable[..., Figure | None]


def _agreement_report(project: Project) -> dict[str, Any]:
    from webapp.labelling.models import AgreementReport

    data = (
        AgreementReport.objects.filter(project=project)
        .order_by("-created_at")
        .values_list("data", flat=True)
        .first()
    )
    return data if isinstance(data, dict) else {}


def annotator_matrix(*, project: Project) -> Figure | None:
    report = _agreement_report(project)
    pairs = (report.get("cohen") or {}).get("pairs") or []
    if not pairs:
        return None
    names = sorted({p.get("a_name", str(p["a"])) for p in pairs} | {
        p.get("b_name", str(p["b"])) for p in pairs
    })  # fmt: skip
    index = {n: i for i, n in enumerate(names)}
    z: list[list[float | None]] = [[None] * len(names) for _ in names]
    for i in range(len(names)):
        z[i][i] = 1.0
    for p in pairs:
        a, b = index[p.get("a_name", str(p["a"]))], index[p.get("b_name", str(p["b"]))]
        z[a][b] = z[b][a] = p.get("kappa")
    return {
        "data": [
            {
                "type": "heatmap",
                "x": names,
                "y": names,
                "z": z,
                "zmin": -1,
                "zmax": 1,
                "colorscale": "RdBu",
                "colorbar": {"title": {"text": "kappa"}},
            },
        ],
        "layout": layout(height=360),
    }


def annotator_bias(*, project: Project) -> Figure | None:
    c = run_charts(project)
    report = _agreement_report(project)
    rows = report.get("annotators") or []
    left = {r.get("username", str(r["worker"])): r.get("left_share") for r in rows}
    ensemble = {
        name: (agree / n if n else None) for _u, name, n, agree, _a in c.get("annotators", [])
    }
    share_a = {name: (a / n if n else None) for _u, name, n, _agree, a in c.get("annotators", [])}
    names = sorted(set(left) | set(ensemble))
    if not names:
        return None
    return {
        "data": [
            {
                "type": "bar",
                "name": "left side chosen",
                "x": names,
                "y": [left.get(n) for n in names],
            },
            {
                "type": "bar",
                "name": "response A chosen",
                "x": names,
                "y": [share_a.get(n) for n in names],
            },
            {
                "type": "bar",
                "name": "agrees with the ensemble",
                "x": names,
                "y": [ensemble.get(n) for n in names],
            },
        ],
        "layout": layout(
            barmode="group",
            yaxis={"title": {"text": "share of A / B votes"}, "range": [0, 1]},
            shapes=[
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": 0.5,
                    "y1": 0.5,
                    "line": {"dash": "dash", "color": "#5b6478"},
                }
            ],
            legend={"orientation": "h", "y": -0.25},
        ),
    }


def review_progress(*, project: Project) -> Figure | None:
    charts = ReviewSettings.objects.filter(project=project).values_list("charts", flat=True).first()
    flagged = int(charts.get("flagged", 0)) if isinstance(charts, dict) else 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT outcome, count(*) FROM review_pairreview WHERE project_id = %s "
            "GROUP BY outcome",
            [project.pk],
        )
        outcomes = dict(cursor.fetchall())
    names = ["keep", "flip", "tie", "drop", "more_votes"]
    decided = sum(outcomes.get(n, 0) for n in names[:4])
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": ["flagged", "decided"] + [n.replace("_", " ") for n in names],
                "x": [flagged, decided] + [outcomes.get(n, 0) for n in names],
                "marker": {"color": ["#b42318", "#1f8a4c"] + ["#2f5bd3"] * len(names)},
            },
        ],
        "layout": layout(yaxis={"autorange": "reversed"}, xaxis={"title": {"text": "pairs"}}),
    }


def label_changes(*, project: Project) -> Figure | None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT date_trunc('day', created_at)::date, action, count(*)
            FROM review_reviewdecision WHERE project_id = %s
            GROUP BY 1, 2 ORDER BY 1, 2
            """,
            [project.pk],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    by_action: dict[str, dict[str, int]] = {}
    for day, action, n in rows:
        by_action.setdefault(action, {})[day.isoformat()] = n
    return {
        "data": [
            {
                "type": "bar",
                "name": action.replace("_", " "),
                "x": list(days),
                "y": list(days.values()),
                "marker": {"color": COLORS[i % len(COLORS)]},
            }
            for i, (action, days) in enumerate(sorted(by_action.items()))
        ],
        "layout": layout(
            barmode="stack",
            xaxis={"type": "date"},
            yaxis={"title": {"text": "decisions"}},
            legend={"orientation": "h", "y": -0.25},
        ),
    }


CHARTS: dict[str, Chart] = {
    "mu-by-flag": Chart(
        "mu, stacked by flag",
        "How many pairs have each strength mu, coloured by their most severe flag. Pairs left "
        "of 0 are ones the ensemble thinks are labelled the wrong way round.",
        mu_by_flag,
    ),
    "sigma-vs-mu": Chart(
        "sigma against mu, 20 groups",
        "Each point is a twentieth of the pairs by mu: higher means the models disagree more "
        "about those pairs.",
        sigma_vs_mu,
    ),
    "deciles": Chart(
        "Strength deciles",
        "Pairs and flagged pairs per strength decile (0 is the weakest tenth), with the mean mu "
        "of each on the right axis.",
        strength_deciles,
    ),
    "label-agreement": Chart(
        "Effective label against mu",
        "Per decile, the share of pairs whose label points the way mu does: dotted at the "
        "scoring run, solid now with the reviewers' decisions. Votes cast since the run count "
        "from the next run.",
        label_agreement,
    ),
    "annotator-matrix": Chart(
        "Annotator agreement",
        "Cohen's kappa between each two annotators with enough pairs in common, from the "
        "latest agreement report: 1 always agree, 0 no better than chance.",
        annotator_matrix,
    ),
    "annotator-bias": Chart(
        "Per-annotator bias",
        "Share of each annotator's A / B votes for the left side, for response A, and in the "
        "direction of the ensemble's mu. Far from the dashed 50% on the first two is a bias.",
        annotator_bias,
    ),
    "progress": Chart(
        "Review progress",
        "Flagged pairs in the queue, pairs with a decision in force, and those decisions by "
        "action (an undo counts as what it put back).",
        review_progress,
    ),
    "label-changes": Chart(
        "Decisions over time",
        "Review decisions per day by action: flips, ties and drops change labels, keeps "
        "confirm them.",
        label_changes,
    ),
}
