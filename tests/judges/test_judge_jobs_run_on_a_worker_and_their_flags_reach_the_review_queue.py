"""On a real Celery worker: a reward-model judge scores every pair in both orders, a verdict
upload is imported, and each is followed by a measurement whose flags reach the review queue;
a benchmark's Evaluate button scores on the worker too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.benchmarks.helpers import rewardbench
from tests.conftest import wait_until
from tests.judges.helpers import import_voted_pairs
from webapp.benchmarks.models import Result
from webapp.benchmarks.services import benchmark_import
from webapp.flags.models import Flag
from webapp.jobs.models import Job
from webapp.judges.models import Judge, JudgeReport, JudgeVerdict
from webapp.judges.services import judge_create
from webapp.pairs.models import Pair
from webapp.projects.services import membership_set
from webapp.review.models import ReviewItem

pytestmark = pytest.mark.slow


def _finished(job_id: int) -> Job:
    return wait_until(lambda: (j := Job.objects.get(pk=job_id)).is_finished and j, timeout=120)


def test_a_reward_model_judge_runs_on_the_worker(
    celery_worker: Any, admin_client: Any, project: Any, tmp_path: Path, tiny_reward_model: Path
) -> None:
    import_voted_pairs(project, tmp_path)
    judge = judge_create(
        project=project, name="tiny", source=Judge.Source.REWARD_MODEL,
        config={"path": str(tiny_reward_model)},
    )  # fmt: skip
    response = admin_client.post(reverse("judges:run", args=[project.pk, judge.pk]))
    job_id = int(response["Location"].rstrip("/").split("/")[-1])
    job = _finished(job_id)
    assert job.status == Job.Status.SUCCEEDED, job.error
    verdicts = JudgeVerdict.objects.filter(judge=judge)
    assert verdicts.count() == Pair.objects.filter(project=project).count() == 7
    assert all(v.choice_ab and v.choice_ba and v.margin is not None for v in verdicts)
    report = JudgeReport.objects.filter(project=project).latest("created_at")
    figures = report.data["judges"][0]
    # a scalar reward model sees each response alone: asked both ways, it never changes its mind
    assert figures["position"]["n"] == 7 and figures["position"]["consistency"] == 1.0


def test_an_uploaded_verdict_file_is_imported_and_its_flags_join_the_queue(
    celery_worker: Any, admin_client: Any, project: Any, tmp_path: Path
) -> None:
    import_voted_pairs(project, tmp_path)
    judge = judge_create(project=project, name="contrary", source=Judge.Source.VERDICTS)
    body = b'{"id": "0", "verdict": "2"}\n{"id": "2", "verdict": "1"}\n{"id": "x"}\n'
    response = admin_client.post(
        reverse("judges:verdicts", args=[project.pk, judge.pk]),
        {"file": SimpleUploadedFile("v.jsonl", body)},
    )
    job = _finished(int(response["Location"].rstrip("/").split("/")[-1]))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["stored"] == 2 and job.result["errors"][0]["line"] == 3
    flagged = set(
        Flag.objects.filter(project=project, kind=Flag.Kind.JUDGES_DISAGREE).values_list(
            "pair_id", flat=True
        )
    )
    assert len(flagged) == 2
    assert flagged <= set(
        ReviewItem.objects.filter(project=project).values_list("pair_id", flat=True)
    )
    page = admin_client.get(reverse("judges:page", args=[project.pk])).content.decode()
    assert 'id="all-disagree">2<' in page


def test_the_evaluate_button_scores_on_the_worker(
    celery_worker: Any, admin_client: Any, admin_user: Any, tmp_path: Path
) -> None:
    path = rewardbench(tmp_path)
    benchmark, _ = benchmark_import(name="RB", path=path, file_name=path.name, fmt="rewardbench")
    membership_set(project=benchmark.project, user=admin_user, role="admin")
    response = admin_client.post(reverse("benchmarks:evaluate", args=[benchmark.pk]))
    job = _finished(int(response["Location"].rstrip("/").split("/")[-1]))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert set(Result.objects.filter(benchmark=benchmark).values_list("name", flat=True)) == {
        "always-a",
        "random",
    }
