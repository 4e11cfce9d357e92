from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.benchmarks import selectors
from webapp.benchmarks.models import Benchmark
from webapp.benchmarks.services import BenchmarkError, contenders_all, evaluation_create
from webapp.projects.models import Membership
from webapp.projects.selectors import project_for_user


@login_required
def benchmark_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "benchmarks/list.html",
        {"benchmarks": list(selectors.benchmarks_for_user(user=request.user))},
    )


def _benchmark(request: HttpRequest, benchmark_id: int) -> Benchmark:
    benchmark = selectors.benchmark_for_user(user=request.user, benchmark_id=benchmark_id)
    if benchmark is None:
        raise Http404("No such benchmark")
    return benchmark


@login_required
def leaderboard_page(request: HttpRequest, benchmark_id: int) -> HttpResponse:
    """Every contender's latest accuracy on the benchmark, per category and overall."""
    benchmark = _benchmark(request, benchmark_id)
    _, role = project_for_user(
        user=request.user, project_id=benchmark.project_id, min_role=Membership.Role.REVIEWER
    )
    rows = selectors.leaderboard(benchmark=benchmark)
    categories = selectors.leaderboard_categories(rows)
    table = [
        {
            "result": r,
            "cells": [
                next((c for c in r.figures.get("categories", []) if c["category"] == cat), None)
                for cat in categories
            ],
        }
        for r in rows
    ]
    context = {
        "benchmark": benchmark,
        "is_admin": role == Membership.Role.ADMIN,
        "table": table,
        "categories": categories,
        "styled": any("styles" in r.figures for r in rows),
        "weighted": bool(benchmark.weights),
        "evaluations": selectors.evaluations_recent(benchmark=benchmark),
    }
    return render(request, "benchmarks/leaderboard.html", context)


@require_POST
@login_required
def evaluate_start(request: HttpRequest, benchmark_id: int) -> HttpResponse:
    """Score every model, judge and ensemble the user can see on the benchmark, on a worker."""
    benchmark = _benchmark(request, benchmark_id)
    project_for_user(
        user=request.user, project_id=benchmark.project_id, min_role=Membership.Role.ADMIN
    )
    contenders = contenders_all(
        benchmark=benchmark, projects=selectors.projects_evaluated_for(user=request.user)
    )
    try:
        run = evaluation_create(benchmark=benchmark, contenders=contenders, created_by=request.user)
    except BenchmarkError as exc:
        messages.error(request, str(exc))
        return redirect("benchmarks:leaderboard", benchmark_id=benchmark.pk)
    assert run.job is not None
    return redirect("jobs:detail", job_id=run.job.pk)
