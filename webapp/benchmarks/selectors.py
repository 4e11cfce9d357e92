"""Reads of the benchmarks stage: the benchmarks a user sees, leaderboards, a model's results."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from webapp.benchmarks.models import Benchmark, Evaluation, Result
from webapp.projects.models import Membership, Project
from webapp.registry.models import RegisteredModel

SEES = (Membership.Role.ADMIN, Membership.Role.REVIEWER)


def benchmarks_for_user(*, user: Any) -> QuerySet[Benchmark]:
    """The benchmarks whose project the user reviews or runs (every one, for a superuser)."""
    qs = Benchmark.objects.annotate(n_pairs=Count("project__pairs", distinct=True))
    if user.is_superuser:
        return qs
    return qs.filter(
        project__memberships__user=user, project__memberships__role__in=SEES
    ).distinct()


def benchmark_for_user(*, user: Any, benchmark_id: int) -> Benchmark | None:
    return benchmarks_for_user(user=user).filter(pk=benchmark_id).select_related("project").first()


def leaderboard(*, benchmark: Benchmark) -> list[Result]:
    """Each contender's latest result on the benchmark, best first (errors last)."""
    latest = (
        Result.objects.filter(benchmark=benchmark)
        .order_by("name", "-id")
        .distinct("name")
        .values_list("id", flat=True)
    )
    rows = list(Result.objects.filter(pk__in=list(latest)))
    rows.sort(key=lambda r: (r.accuracy is None, -(r.accuracy or 0.0), r.name))
    return rows


def leaderboard_categories(rows: list[Result]) -> list[str]:
    return sorted({c["category"] for r in rows for c in r.figures.get("categories", [])})


def evaluations_recent(*, benchmark: Benchmark, limit: int = 10) -> list[Evaluation]:
    return list(
        Evaluation.objects.filter(benchmark=benchmark).select_related("job").order_by("-id")[:limit]
    )


def projects_evaluated_for(*, user: Any) -> list[Project]:
    """The projects whose models, judges and ensembles a user's evaluation scores: those they
    review or run, never a benchmark's own."""
    qs = Project.objects.filter(benchmark__isnull=True)
    if not user.is_superuser:
        qs = qs.filter(Q(memberships__user=user) & Q(memberships__role__in=SEES)).distinct()
    return list(qs)


def results_for_model(*, model: RegisteredModel | None) -> list[Result]:
    """A registered model's latest result on each benchmark (a training run's page shows them)."""
    if model is None:
        return []
    latest = (
        Result.objects.filter(registered_model=model)
        .order_by("benchmark_id", "-id")
        .distinct("benchmark_id")
        .values_list("id", flat=True)
    )
    return list(Result.objects.filter(pk__in=list(latest)).select_related("benchmark"))


def is_benchmark_project(*, project: Project) -> bool:
    return Benchmark.objects.filter(project=project).exists()
