"""`run_checks --wait` queues a checks job that a real Celery worker claims and finishes; the
page's button starts one too."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.checks.helpers import pair
from webapp.checks.models import CheckRun
from webapp.flags.models import Flag
from webapp.jobs.models import Job

pytestmark = pytest.mark.slow


def test_the_command_waits_for_the_worker(celery_worker: Any, project: Any) -> None:
    for a, b in (("red", "green"), ("green", "blue"), ("blue", "red")):
        pair(project, "Pick a colour", a, b)
    out = StringIO()
    call_command("run_checks", "--project", project.name, "--wait", stdout=out)
    run = CheckRun.objects.get(project=project)
    assert run.complete and run.job is not None
    assert Job.objects.get(pk=run.job.pk).status == Job.Status.SUCCEEDED
    assert Flag.objects.filter(project=project, kind="label_cycle").count() == 3
    assert "Checks done" in out.getvalue()


def test_the_button_starts_a_job(celery_worker: Any, admin_client: Any, project: Any) -> None:
    pair(project, "Pick", "a", "b")
    response = admin_client.post(reverse("checks:start", args=[project.pk]))
    run = CheckRun.objects.get(project=project)
    assert run.job is not None
    assert response.status_code == 302 and response["Location"].endswith(f"/jobs/{run.job.pk}/")
