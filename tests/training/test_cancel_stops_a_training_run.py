"""Cancelling a running training run stops it between steps and registers no model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_until
from tests.training.helpers import labelled_project, quick
from webapp.jobs.models import Job
from webapp.registry.models import RegisteredModel
from webapp.training.models import TrainingRun
from webapp.training.services import training_run_create

pytestmark = pytest.mark.slow


def test_cancel_from_the_run_page_stops_the_run(
    celery_worker: Any, project: Any, admin_user: Any, tmp_path: Path
) -> None:
    from django.test import Client

    labelled_project(project, tmp_path, n=40)
    run = training_run_create(project=project, options=quick(epochs=100000, batch_size=8))
    assert run.job is not None
    wait_until(
        lambda: len(TrainingRun.objects.get(pk=run.pk).curves.get("train_loss", [])) >= 2,
        timeout=180,
    )
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/training/runs/{run.pk}/")
    assert b'id="training-cancel"' in page.content
    response = client.post(f"/jobs/{run.job.pk}/cancel/")
    assert response.status_code == 302
    wait_until(lambda: Job.objects.get(pk=run.job.pk).is_finished, timeout=60)
    job = Job.objects.get(pk=run.job.pk)
    assert job.status == Job.Status.CANCELLED, job.error
    run.refresh_from_db()
    assert not run.complete and not RegisteredModel.objects.filter(run=run).exists()
