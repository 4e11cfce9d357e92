"""The judges page and a benchmark's leaderboard in Chromium: figures, charts and forms show,
dataset text stays text, and neither page logs a console error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.benchmarks.helpers import rewardbench
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, MembershipFactory, ProjectFactory, UserFactory
from tests.judges.helpers import import_voted_pairs, write_jsonl
from webapp.benchmarks.services import benchmark_import
from webapp.judges.models import Judge
from webapp.judges.report import judges_measure
from webapp.judges.services import judge_create, verdicts_import
from webapp.projects.services import membership_set

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_judges_page_shows_each_judge_against_people(
    page: Any, transactional_db: Any, tmp_path: Path
) -> None:
    admin = UserFactory(username="judge-admin")
    project = ProjectFactory(name="Judged")
    MembershipFactory(project=project, user=admin, role="admin")
    import_voted_pairs(project, tmp_path)
    judge = judge_create(project=project, name="<script>gpt</script>", source=Judge.Source.VERDICTS)
    rows = [{"id": k, "verdict": v} for k, v in zip("012345", "aabbab", strict=True)]
    rows += [{"id": k, "verdict": "a", "position": "ba"} for k in "012345"]
    verdicts_import(judge=judge, path=write_jsonl(tmp_path / "v.jsonl", rows), file_name="v.jsonl")
    judges_measure(project=project)
    log_in(page, "judge-admin", PASSWORD)
    page.goto(f"/projects/{project.pk}/judges/")
    figures = page.locator("#judge-figures tbody tr")
    assert figures.count() == 1
    assert "<script>gpt</script>" in figures.first.inner_text()  # shown as text
    assert figures.first.locator(".kappa").inner_text() != "\u2013"
    page.wait_for_selector("#kappa .main-svg")  # Plotly drew the chart
    assert page.locator("#n-human").inner_text() == "6"
    page.click("summary:has-text('per category and per annotator')")
    assert page.is_visible("text=Their mean kappa with other people")
    assert page.is_visible("#judge-add") is False  # folded until asked
    page.click("summary:has-text('Add a judge')")
    assert page.is_visible("#judge-add")


def test_the_leaderboard_ranks_contenders_with_their_intervals(
    page: Any, transactional_db: Any, tmp_path: Path
) -> None:
    admin = UserFactory(username="bench-admin")
    path = rewardbench(tmp_path)
    benchmark, _ = benchmark_import(
        name="RB <i>", path=path, file_name=path.name, fmt="rewardbench"
    )
    membership_set(project=benchmark.project, user=admin, role="admin")
    call_command("evaluate_rm", "--benchmark", "RB <i>", "--model", "always_a", "--model", "random",
                 "--here")  # fmt: skip
    log_in(page, "bench-admin", PASSWORD)
    page.goto("/benchmarks/")
    page.click("text=RB <i>")
    rows = page.locator("#leaderboard tr.result")
    assert rows.count() == 2
    names = {rows.nth(i).locator(".name").inner_text() for i in range(2)}
    assert names == {"always-a", "random"}
    accuracies = [float(rows.nth(i).locator(".accuracy").inner_text()) for i in range(2)]
    assert accuracies == sorted(accuracies, reverse=True)
    headers = page.locator("#leaderboard thead th").all_inner_texts()
    assert headers[-2:] == ["x", "y"]  # a column per category
    assert page.is_visible("#evaluate")
