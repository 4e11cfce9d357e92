"""The API of judges (add, list, report, verdict upload, runs, fill-in), benchmarks (import,
list, leaderboard) and evaluations, with the pages' access checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.conftest import client_for
from tests.benchmarks.helpers import rewardbench
from tests.factories import UserFactory
from webapp.jobs.models import Job
from webapp.judges.models import Judge
from webapp.registry.models import RegisteredModel
from webapp.training.models import TrainingRun


def test_judges_are_added_listed_and_set_to_fill_in(
    api_admin: Any, annotator: Any, project: Any
) -> None:
    url = f"/api/projects/{project.pk}/judges/"
    created = api_admin.post(url, {"name": "GPT-4", "source_kind": "verdicts"}, format="json")
    assert created.status_code == 201, created.json()
    judge = created.json()
    assert judge["kind"] == "judge" and judge["source"] == "verdicts"
    assert [j["name"] for j in api_admin.get(url).json()] == ["GPT-4"]
    assert client_for(annotator).get(url).status_code == 404  # annotators label blind
    assert api_admin.get(f"{url}report/").status_code == 404  # nothing measured yet
    fill = api_admin.post(f"{url}{judge['id']}/fill-in/", {"on": True}, format="json")
    assert fill.status_code == 200 and fill.json()["fills_missing"] is True
    refused = api_admin.post(f"{url}{judge['id']}/runs/")
    assert refused.status_code == 400 and "import its file" in str(refused.json())
    bad = api_admin.post(
        url, {"name": "rm", "source_kind": "reward_model", "path": "/nope"}, format="json"
    )
    assert bad.status_code == 400 and "not here" in str(bad.json())


def test_a_verdict_file_is_queued_as_a_job(api_admin: Any, project: Any) -> None:
    judge = Judge.objects.create(project=project, name="GPT", source="verdicts")
    url = f"/api/projects/{project.pk}/judges/{judge.pk}/verdicts/"
    upload = SimpleUploadedFile("v.jsonl", b'{"id": "1", "verdict": "a"}\n')
    response = api_admin.post(url, {"file": upload}, format="multipart")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.kind == "verdicts" and job.params["judge"] == judge.pk
    ensemble = Judge.objects.create(project=project, name="ens", source="ensemble")
    again = SimpleUploadedFile("v.jsonl", b"{}")
    refused = api_admin.post(
        f"/api/projects/{project.pk}/judges/{ensemble.pk}/verdicts/",
        {"file": again},
        format="multipart",
    )
    assert refused.status_code == 400


def test_benchmarks_import_and_evaluate_through_the_api(
    api_admin: Any, project: Any, other_project: Any, tmp_path: Path
) -> None:
    path = rewardbench(tmp_path)
    with open(path, "rb") as fh:
        response = api_admin.post(
            "/api/benchmarks/",
            {"name": "RB", "format": "rewardbench", "file": fh, "weights": '{"x": 1, "y": 2}'},
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["pairs"] == 8 and body["rejected"] == 1
    assert body["rejected_records"][0]["field"] == "rejected"
    benchmark = body["benchmark"]["id"]
    assert [b["name"] for b in api_admin.get("/api/benchmarks/").json()] == ["RB"]
    assert api_admin.get(f"/api/benchmarks/{benchmark}/leaderboard/").json() == []
    started = api_admin.post(
        f"/api/benchmarks/{benchmark}/evaluations/",
        {"contenders": ["always_a", "random"]},
        format="json",
    )
    assert started.status_code == 202, started.json()
    contenders = started.json()["config"]["contenders"]
    assert [c["name"] for c in contenders] == ["always-a", "random"]
    detail = api_admin.get(f"/api/evaluations/{started.json()['id']}/")
    assert detail.status_code == 200 and detail.json()["complete"] is False
    # a model of a project the caller does not review is no contender of theirs
    run = TrainingRun.objects.create(project=other_project, name="theirs")
    model = RegisteredModel.objects.create(
        project=other_project, run=run, version=1, kind="head", path="/m"
    )
    refused = api_admin.post(
        f"/api/benchmarks/{benchmark}/evaluations/",
        {"contenders": [f"registered:{model.pk}"]},
        format="json",
    )
    assert refused.status_code == 400 and "projects you review" in str(refused.json())


def test_strangers_see_no_benchmark(api_admin: Any, tmp_path: Path, db: Any) -> None:
    path = rewardbench(tmp_path)
    with open(path, "rb") as fh:
        body = api_admin.post(
            "/api/benchmarks/",
            {"name": "RB", "format": "rewardbench", "file": fh},
            format="multipart",
        ).json()
    stranger = client_for(UserFactory(username="nobody"))
    benchmark = body["benchmark"]["id"]
    assert stranger.get("/api/benchmarks/").json() == []
    assert stranger.get(f"/api/benchmarks/{benchmark}/leaderboard/").status_code == 404
    with open(path, "rb") as fh:
        taken = stranger.post(
            "/api/benchmarks/",
            {"name": "RB", "format": "rewardbench", "file": fh},
            format="multipart",
        )
    assert taken.status_code == 404  # adding to someone else's benchmark
