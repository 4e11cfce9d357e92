"""A job whose task the broker cannot take (Redis down, unreachable) ends failed with a clear
error instead of staying queued forever with no task behind it."""

from __future__ import annotations

from typing import Any

import pytest
from kombu.exceptions import OperationalError

from webapp.celery import app
from webapp.jobs.models import Job
from webapp.jobs.services import job_create

pytestmark = pytest.mark.django_db


def test_an_unreachable_broker_fails_the_job(
    project: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(app, "send_task", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(kind="export", project=project, params={})
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "task broker is unreachable" in job.error and "Connection refused" in job.error
    assert job.finished_at is not None


def test_a_reachable_broker_leaves_the_job_queued(
    project: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[Any] = []
    monkeypatch.setattr(app, "send_task", lambda *a, **kw: sent.append((a, kw)))
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(kind="export", project=project, params={})
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and len(sent) == 1
