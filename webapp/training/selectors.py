"""Reads about training runs, and the charts of their pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from webapp.projects.models import Project
from webapp.training.models import TrainingRun


def runs_for_project(*, project: Project) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.filter(project=project).select_related("job", "model")


def run_visible_to(*, user: Any, run_id: int) -> TrainingRun | None:
    """The run when the user belongs to its project (any run for a superuser)."""
    runs = TrainingRun.objects.filter(pk=run_id).select_related("project", "job", "model")
    if not user.is_superuser:
        runs = runs.filter(project__memberships__user=user)
    return runs.first()


_LAYOUT = {"margin": {"t": 30, "l": 50, "r": 10, "b": 40}, "height": 300}


def _curves_figure(runs: list[TrainingRun], metric: str, title: str) -> str:
    import plotly.graph_objects as go

    figure = go.Figure()
    for run in runs:
        for split, dash in (("train", "dot"), ("heldout", "solid")):
            values = run.curves.get(f"{split}_{metric}", [])
            figure.add_trace(
                go.Scatter(
                    x=list(range(1, len(values) + 1)), y=values, mode="lines+markers",
                    name=f"run {run.pk} {split}", line={"dash": dash},
                )
            )  # fmt: skip
    figure.update_layout(title=title, xaxis_title="epoch", **_LAYOUT)
    return str(figure.to_json())


def _deciles_figure(runs: list[TrainingRun]) -> str:
    import plotly.graph_objects as go

    figure = go.Figure()
    for run in runs:
        rows = run.metrics.get("by_decile", [])
        figure.add_trace(
            go.Bar(
                x=[r["decile"] + 1 for r in rows], y=[r["accuracy"] for r in rows],
                name=f"run {run.pk}: {run.name}", text=[f"{r['n']} pairs" for r in rows],
            )
        )  # fmt: skip
    figure.update_layout(
        title="Held-out accuracy per strength decile (1 = weakest)", barmode="group",
        xaxis_title="decile of mu", yaxis={"range": [0, 1]}, **_LAYOUT,
    )  # fmt: skip
    return str(figure.to_json())


def _reliability_figure(runs: list[TrainingRun]) -> str:
    import plotly.graph_objects as go

    figure = go.Figure(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="calibrated", line={"dash": "dash"})
    )
    for run in runs:
        diagram = run.metrics.get("reliability", {})
        figure.add_trace(
            go.Scatter(
                x=diagram.get("mean_predicted", []), y=diagram.get("observed", []),
                mode="lines+markers", name=f"run {run.pk} (ECE {run.metrics.get('ece', 0):.3f})",
            )
        )  # fmt: skip
    figure.update_layout(
        title="Reliability of sigmoid(r_c - r_r)", xaxis_title="predicted p",
        yaxis_title="observed share", **_LAYOUT,
    )  # fmt: skip
    return str(figure.to_json())


def run_charts(*, runs: list[TrainingRun]) -> list[dict[str, str]]:
    """Plotly figures as JSON for one run's page or the compare page: each with the id of
    the element it is drawn in and of the script that holds it (see static/js/charts.js)."""
    charts = {
        "chart-loss": _curves_figure(runs, "loss", "Loss per epoch"),
        "chart-accuracy": _curves_figure(runs, "accuracy", "Accuracy per epoch"),
    }
    finished = [r for r in runs if r.complete]
    if finished:
        charts["chart-deciles"] = _deciles_figure(finished)
        charts["chart-reliability"] = _reliability_figure(finished)
    return [{"id": k, "data_id": f"{k}-data", "figure": v} for k, v in charts.items()]
