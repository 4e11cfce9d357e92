"""Reads of the judges stage: a project's judges, its latest report, the page's charts."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from webapp.judges.models import Judge, JudgeReport, JudgeRun
from webapp.projects.models import Project
from webapp.registry.models import RegisteredModel


def judges_for_project(*, project: Project) -> QuerySet[Judge]:
    return Judge.objects.filter(project=project).annotate(n_verdicts=Count("verdicts"))


def judge_for_project(*, project: Project, judge_id: int) -> Judge | None:
    return Judge.objects.filter(project=project, pk=judge_id).first()


def judge_report_latest(*, project: Project) -> JudgeReport | None:
    return JudgeReport.objects.filter(project=project).order_by("-created_at", "-id").first()


def judge_runs_recent(*, project: Project, limit: int = 10) -> list[JudgeRun]:
    return list(
        JudgeRun.objects.filter(project=project)
        .select_related("judge", "job")
        .order_by("-id")[:limit]
    )


def registered_models_of(*, project: Project) -> QuerySet[RegisteredModel]:
    return RegisteredModel.objects.filter(project=project).order_by("-version")


def judge_charts(*, report: JudgeReport | None) -> dict[str, Any]:
    """Plotly figures as JSON: each judge's kappa with its interval, and agreement by decile."""
    if report is None or not report.data.get("judges"):
        return {}
    import plotly.graph_objects as go

    judges = report.data["judges"]
    named = [j for j in judges if j["overall"]["kappa"] is not None]
    kappa = go.Figure(
        go.Bar(
            x=[j["name"] for j in named],
            y=[j["overall"]["kappa"] for j in named],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [
                    (j["overall"]["kappa_interval"] or [0, 0])[1] - j["overall"]["kappa"]
                    for j in named
                ],
                "arrayminus": [
                    j["overall"]["kappa"] - (j["overall"]["kappa_interval"] or [0, 0])[0]
                    for j in named
                ],
            },
            marker_color="#2f5bd3",
        )
    )
    people = report.data.get("humans", {}).get("mean_kappa")
    if people is not None:
        kappa.add_hline(y=people, line_dash="dash", line_color="#b42318")
    kappa.update_layout(
        yaxis_title="Cohen's kappa with the human majority", height=300,
        margin={"t": 10, "l": 50, "r": 10, "b": 40},
    )  # fmt: skip
    deciles = go.Figure(
        [
            go.Scatter(
                x=[row["group"] for row in j["by_decile"]],
                y=[row["agreement"] for row in j["by_decile"]],
                mode="lines+markers",
                name=j["name"],
            )
            for j in judges
            if j["by_decile"]
        ]
    )
    deciles.update_layout(
        xaxis_title="strength decile of the latest scoring run (0 = weakest)",
        yaxis_title="agreement with people", height=300,
        margin={"t": 10, "l": 50, "r": 10, "b": 40},
    )  # fmt: skip
    out = {"kappa": kappa.to_json()}
    if any(j["by_decile"] for j in judges):
        out["deciles"] = deciles.to_json()
    return out
