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
from webapp.review.selectors import flag_kind_label

Figure = dict[str, Any]
LAYOUT = {"height": 320, "margin": {"t": 10, "l": 55, "r": 15, "b": 45}}
COLORS = ["#2f5bd3", "#b42318", "#1f8a4c", "#b26b00", "#7a3fb8", "#0f7d8c", "#5b6478"]


@dataclass(frozen=True)
class Chart:
    title: str
    caption: str
    build: Callable[..., Figure | None]


def _run_charts(project: Project) -> dict[str, Any]:
    charts = ReviewSettings.objects.filter(project=project).values_list("charts", flat=True).first()
    return charts if isinstance(charts, dict) and charts.get("n") else {}


def _layout(**extra: Any) -> dict[str, Any]:
    return {**LAYOUT, **extra}


def mu_by_flag(*, project: Project) -> Figure | None:
    c = _run_charts(project)
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
        "layout": _layout(
            barmode="stack",
            xaxis={"title": {"text": "mu"}},
            yaxis={"title": {"text": "pairs"}},
            legend={"orientation": "h", "y": -0.25},
        ),
    }


def sigma_vs_mu(*, project: Project) -> Figure | None:
    c = _run_charts(project)
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
        "layout": _layout(
            xaxis={"title": {"text": "mu (group mean)"}},
            yaxis={"title": {"text": "sigma (group mean)"}},
        ),
    }


def strength_deciles(*, project: Project) -> Figure | None:
    c = _run_charts(project)
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
        "layout": _layout(
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
    c = _run_charts(project)
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
        "layout": _layout(
            xaxis={"title": {"text": "strength decile"}, "dtick": 1},
            yaxis={"title": {"text": "share agreeing with mu"}, "range": [0, 1.02]},
            legend={"orientation": "h", "y": -0.25},
        ),
    }


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
        "layout": _layout(height=360),
    }


def annotator_bias(*, project: Project) -> Figure | None:
    c = _run_charts(project)
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
        "layout": _layout(
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
        "layout": _layout(yaxis={"autorange": "reversed"}, xaxis={"title": {"text": "pairs"}}),
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
        "layout": _layout(
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
