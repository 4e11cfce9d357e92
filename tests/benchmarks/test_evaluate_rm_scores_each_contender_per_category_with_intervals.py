"""`evaluate_rm` scores baselines, a benchmark's own verdict judge and an outside reward model
per category and overall, with intervals and the weighted score; the leaderboard shows each
contender's latest result and a training run's page its model's."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from tests.benchmarks.helpers import rewardbench, write
from webapp.benchmarks.models import Benchmark, Result
from webapp.benchmarks.services import benchmark_import
from webapp.judges.models import Judge
from webapp.judges.services import judge_create, verdicts_import
from webapp.pairs.models import Pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def benchmark(tmp_path: Path) -> Benchmark:
    path = rewardbench(tmp_path)
    return benchmark_import(
        name="RB", path=path, file_name=path.name, fmt="rewardbench", weights={"x": 1, "y": 3}
    )[0]


def _verdict_judge(benchmark: Benchmark, tmp_path: Path) -> Judge:
    """Right on every pair of subset x, wrong on every pair of y."""
    judge = judge_create(project=benchmark.project, name="oracle-x", source=Judge.Source.VERDICTS)
    rows = []
    for p in Pair.objects.filter(project=benchmark.project):
        right = p.imported_label
        wrong = "b" if right == "a" else "a"
        rows.append({"pair_id": p.pk, "verdict": right if p.metadata["category"] == "x" else wrong})
    path = write(tmp_path / "verdicts.jsonl", rows)
    assert verdicts_import(judge=judge, path=path, file_name=path.name)["stored"] == 8
    return judge


def test_contenders_are_scored_per_category(
    benchmark: Benchmark, tmp_path: Path, tiny_reward_model: Path
) -> None:
    judge = _verdict_judge(benchmark, tmp_path)
    out = StringIO()
    call_command(
        "evaluate_rm", "--benchmark", "RB", "--model", "always_a", "--model", "random",
        "--model", f"judge:{judge.pk}", "--model", f"rm:{tiny_reward_model}", "--here",
        stdout=out,
    )  # fmt: skip
    results = {r.name: r for r in Result.objects.filter(benchmark=benchmark)}
    labels = list(
        Pair.objects.filter(project=benchmark.project).values_list("imported_label", flat=True)
    )
    assert results["always-a"].accuracy == pytest.approx(labels.count("a") / 8)
    oracle = results["judge oracle-x"].figures
    assert {c["category"]: c["accuracy"] for c in oracle["categories"]} == {"x": 1.0, "y": 0.0}
    assert oracle["weighted"] == pytest.approx(0.25) and oracle["accuracy"] == 0.5
    lo, hi = oracle["interval"]
    assert lo < 0.5 < hi
    tiny = results[f"rm:{tiny_reward_model.name}"]
    assert tiny.kind == Result.Kind.REWARD_MODEL and 0.0 <= tiny.accuracy <= 1.0
    assert "judge oracle-x: accuracy 0.500" in out.getvalue()


def test_the_leaderboard_shows_each_contenders_latest_result(
    benchmark: Benchmark, tmp_path: Path, admin_client: Any, admin_user: Any
) -> None:
    from webapp.projects.services import membership_set

    membership_set(project=benchmark.project, user=admin_user, role="admin")
    _verdict_judge(benchmark, tmp_path)
    for _ in range(2):
        call_command(
            "evaluate_rm", "--benchmark", "RB", "--model", "all", "--here", stdout=StringIO()
        )
    response = admin_client.get(reverse("benchmarks:leaderboard", args=[benchmark.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="result"') == 3  # always-a, random, the judge; latest only
    assert "judge oracle-x" in html and "Weighted" in html
    assert admin_client.get(reverse("benchmarks:list")).content.decode().count("RB") >= 1


def test_someone_outside_the_benchmark_sees_nothing(benchmark: Benchmark, client: Any) -> None:
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="stranger"))
    assert client.get(reverse("benchmarks:leaderboard", args=[benchmark.pk])).status_code == 404
    assert client.post(reverse("benchmarks:evaluate", args=[benchmark.pk])).status_code == 404
    assert "RB" not in client.get(reverse("benchmarks:list")).content.decode()


def test_a_bad_contender_is_named(benchmark: Benchmark) -> None:
    with pytest.raises(CommandError, match="cannot read the contender 'gpt5'"):
        call_command("evaluate_rm", "--benchmark", "RB", "--model", "gpt5", "--here")
    with pytest.raises(CommandError, match="no benchmark named"):
        call_command("evaluate_rm", "--benchmark", "nope", "--model", "random")
    assert json.dumps(benchmark.weights)


def test_a_training_run_page_shows_its_models_benchmark_results(
    benchmark: Benchmark, project: Any, admin_client: Any
) -> None:
    from webapp.benchmarks.models import Evaluation
    from webapp.registry.models import RegisteredModel
    from webapp.training.models import TrainingRun

    run = TrainingRun.objects.create(
        project=project, name="flip mu<0", complete=True, metrics={"accuracy": 0.7, "n": 10}
    )
    model = RegisteredModel.objects.create(
        project=project, run=run, version=1, kind="head", path="/m"
    )
    page = admin_client.get(reverse("training:run", args=[run.pk])).content.decode()
    assert 'id="benchmark-results-none"' in page
    evaluation = Evaluation.objects.create(
        project=benchmark.project, benchmark=benchmark, complete=True
    )
    figures = {"accuracy": 0.625, "interval": [0.5, 0.75]}
    Result.objects.create(
        evaluation=evaluation, benchmark=benchmark, name="v1", kind=Result.Kind.REGISTERED,
        registered_model=model, accuracy=0.625, figures=figures,
    )  # fmt: skip
    page = admin_client.get(reverse("training:run", args=[run.pk])).content.decode()
    assert "0.625" in page and "0.500 \u2013 0.750" in page and "0.700" in page
