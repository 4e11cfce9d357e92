"""`train_rm` and the REST API start the same runs as the page, with the same checks."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, UserFactory
from tests.training.helpers import labelled_project
from webapp.training.models import TrainingRun

pytestmark = pytest.mark.slow


def test_the_command_queues_a_run_with_its_recipe(project: Any, tmp_path: Path) -> None:
    labelled_project(project, tmp_path, n=30)
    with pytest.raises(CommandError, match="score the pairs first"):
        call_command("train_rm", "--project", project.name, "--flip-below", "0")
    with pytest.raises(CommandError, match="no project"):
        call_command("train_rm", "--project", "nope")
    out = StringIO()
    call_command(
        "train_rm", "--project", project.name, "--smoothing", "0.1", "--center-rewards", "0.01",
        stdout=out,
    )  # fmt: skip
    run = TrainingRun.objects.get()
    assert run.name == "smooth 0.1" and f"Training run {run.pk}" in out.getvalue()
    assert run.config["options"]["center_rewards_coefficient"] == 0.01


def test_the_api_starts_lists_and_shows_runs(project: Any, admin_user: Any, tmp_path: Path) -> None:
    labelled_project(project, tmp_path, n=30)
    api = APIClient()
    api.force_authenticate(admin_user)
    url = f"/api/projects/{project.pk}/training-runs/"
    bad = api.post(url, {"smoothing": 0.7}, format="json")
    assert bad.status_code == 400
    started = api.post(url, {"drop_bottom_pct": 0, "epochs": 2}, format="json")
    assert started.status_code == 202, started.content
    body = started.json()
    assert body["job"]["kind"] == "train" and body["url"] == f"/training/runs/{body['id']}/"
    assert [r["id"] for r in api.get(url).json()] == [body["id"]]
    assert api.get(f"/api/training-runs/{body['id']}/").json()["name"] == "none"
    reviewer = UserFactory(username="rita")
    MembershipFactory(project=project, user=reviewer, role="reviewer")
    api.force_authenticate(reviewer)
    assert api.get(url).status_code == 200
    assert api.post(url, {}, format="json").status_code == 404  # starting needs an admin
    api.force_authenticate(UserFactory(username="mallory"))
    assert api.get(f"/api/training-runs/{body['id']}/").status_code == 404
