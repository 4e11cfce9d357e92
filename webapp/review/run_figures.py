"""The review dashboards' figures of a scoring run, and the Plotly basics every dashboard figure
shares. They read only the numbers ``review_queue_rebuild`` stores per run
(ReviewSettings.charts), and the decision table for what reviewers changed since (see
dashboards.py, which lists the charts with their captions)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from webapp.projects.models import Project
from webapp.review.models import ReviewSettings
from webapp.review.selectors import flag_kind_label

Figure = dict[str, Any]
LAYOUT = {"height": 320, "margin": {"t": 10, "l": 55, "r": 15, "b": 45}}
COLORS = ["#2f5bd3", "#b42318", "#1f8a4c", "#b26b00", "#7a3fb8", "#0f7d8c", "#5b6478"]


def run_charts(project: Project) -> dict[str, Any]:
    charts = ReviewSettings.objects.filter(project=project).values_list("charts", flat=True).first()
    return charts if isinstance(charts, dict) and charts.get("n") else {}


def layout(**extra: Any) -> dict[str, Any]:
    return {**LAYOUT, **extra}


def mu_by_flag(*, project: Project) -> Figure | None:
    c = run_charts(project)
    if not c:
        return None
    lo, hi = c["mu_range"]
    width = (hi - lo) / c["bins"]
    by_kind: dict[str, dict[int, int]] = {}
    for b, kind, n in c["hist"]:
        by_kind.setdefault(kind, {})[b] = n
    data = []
    for i, (kind, bins) in enumerate(sorted(by_kind.items(), key=lambda kv: kv[0] != "")):
        xs = sorted(bins)
        data.append(
            {
                "type": "bar",
                "name": flag_kind_label(kind) if kind else "not flagged",
                "x": [lo + (b - 0.5) * width for b in xs],
                "y": [bins[b] for b in xs],
                "width": width,
                "marker": {"color": "#c9d1e3" if not kind else COLORS[i % len(COLORS)]},
            }
        )
    return {
        "data": data,
        "layout": layout(
            barmode="stack",
            xaxis={"title": {"text": "mu"}},
            yaxis={"title": {"text": "pairs"}},
            legend={"orientation": "h", "y": -0.25},
        ),
    }


def sigma_vs_mu(*, project: Project) -> Figure | None:
    c = run_charts(project)
    if not c:
        return None
    groups = c["groups"]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [g[1] for g in groups],
                "y": [g[2] for g in groups],
                "text": [f"group {g[0]}: {g[3]} pairs" for g in groups],
            }
        ],
        "layout": layout(
            xaxis={"title": {"text": "mu (group mean)"}},
            yaxis={"title": {"text": "sigma (group mean)"}},
        ),
    }


def strength_deciles(*, project: Project) -> Figure | None:
    c = run_charts(project)
    if not c:
        return None
    deciles = c["deciles"]
    return {
        "data": [
            {
                "type": "bar",
                "name": "pairs",
                "x": [d[0] for d in deciles],
                "y": [d[1] for d in deciles],
                "marker": {"color": "#c9d1e3"},
            },
            {
                "type": "bar",
                "name": "flagged",
                "x": [d[0] for d in deciles],
                "y": [d[4] for d in deciles],
                "marker": {"color": "#b42318"},
            },
            {
                "type": "scatter",
                "name": "mean mu",
                "x": [d[0] for d in deciles],
                "y": [d[2] for d in deciles],
                "yaxis": "y2",
                "mode": "lines+markers",
            },
        ],
        "layout": layout(
            barmode="overlay",
            xaxis={"title": {"text": "strength decile (0 = weakest)"}, "dtick": 1},
            yaxis={"title": {"text": "pairs"}},
            yaxis2={"title": {"text": "mean mu"}, "overlaying": "y", "side": "right"},
            legend={"orientation": "h", "y": -0.25},
        ),
    }


def label_agreement(*, project: Project) -> Figure | None:
    """Per decile: the share of pairs whose effective label points the way mu does. The run's
    counts, corrected for the pairs decided since (a decided pair counts by its decision; the
    decision in force carries the pair's score in the run it answered)."""
    c = run_charts(project)
    if not c:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT rv.decile, count(*),
                count(*) FILTER (WHERE rv.mu > 0),
                count(*) FILTER (WHERE rv.label IN ('a', 'b')
                                   AND (rv.label = rv.label_scored) = (rv.mu > 0)),
                count(*) FILTER (WHERE rv.label NOT IN ('a', 'b'))
            FROM review_pairreview rv
            WHERE rv.project_id = %(project)s AND rv.outcome IN ('keep', 'flip', 'tie', 'drop')
              AND rv.scoring_run_id = %(run)s AND rv.mu IS NOT NULL
            GROUP BY rv.decile
            """,
            {"project": project.pk, "run": c["run"]},
        )
        decided = {row[0]: row[1:] for row in cursor.fetchall()}
    xs, at_run, now = [], [], []
    for d, n, _mean, agree, _flagged in c["deciles"]:
        _k, k_agree_then, k_agree_now, k_gone = decided.get(d, (0, 0, 0, 0))
        xs.append(d)
        at_run.append(agree / n if n else None)
        left = n - k_gone
        now.append((agree - k_agree_then + k_agree_now) / left if left else None)
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "labels at the run",
                "x": xs,
                "y": at_run,
                "line": {"dash": "dot"},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "effective labels now",
                "x": xs,
                "y": now,
            },
        ],
        "layout": layout(
            xaxis={"title": {"text": "strength decile"}, "dtick": 1},
            yaxis={"title": {"text": "share agreeing with mu"}, "range": [0, 1.02]},
            legend={"orientation": "h", "y": -0.25},
        ),
    }
