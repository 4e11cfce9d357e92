"""Job claims, progress, cancel, and the WebSocket that streams progress to the page."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from tests.factories import MembershipFactory, UserFactory
from webapp.jobs.models import Job
from webapp.jobs.services import (
    JobCancelled,
    job_cancel,
    job_claim,
    job_create,
    job_progress,
)


@pytest.mark.django_db
def test_only_one_claim_wins(project: Any) -> None:
    job = job_create(kind="import", project=project, params={}, enqueue=False)
    assert job_claim(job_id=job.pk) is not None
    assert job_claim(job_id=job.pk) is None


@pytest.mark.django_db
def test_a_cancelled_running_job_stops_at_its_next_report(project: Any) -> None:
    job = job_create(kind="import", project=project, params={}, enqueue=False)
    claimed = job_claim(job_id=job.pk)
    assert claimed is not None
    job_progress(job=claimed, done=1, total=10)
    job_cancel(job=claimed)
    with pytest.raises(JobCancelled):
        job_progress(job=claimed, done=2, total=10)


@pytest.mark.django_db
def test_a_queued_job_cancelled_is_never_claimed(project: Any) -> None:
    job = job_create(kind="import", project=project, params={}, enqueue=False)
    job_cancel(job=job)
    assert job_claim(job_id=job.pk) is None
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED


def _socket(live_app: Any, client: Any, user: Any, job_id: int) -> Any:
    """A real WebSocket to the running ASGI server, logged in with a real session cookie."""
    from websockets.sync.client import connect

    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    url = live_app.url.replace("http", "ws") + f"/ws/jobs/{job_id}/"
    return connect(url, additional_headers={"Cookie": cookie, "Origin": live_app.url})


def test_the_socket_streams_progress_to_members_only(celery_worker: Any, client: Any) -> None:
    from websockets.exceptions import InvalidStatus

    member = UserFactory(username="member")
    stranger = UserFactory(username="stranger")
    membership = MembershipFactory(user=member, role="admin")
    job = job_create(kind="import", project=membership.project, params={}, enqueue=False)
    claimed = job_claim(job_id=job.pk)
    assert claimed is not None

    with _socket(celery_worker, client, member, job.pk) as ws:
        snapshot = json.loads(ws.recv(timeout=10))
        assert snapshot["status"] == "running"
        # published from a plain thread, as a worker would: a browser test earlier in the
        # session may leave Playwright's event loop on this one
        publisher = threading.Thread(
            target=job_progress,
            kwargs={"job": claimed, "done": 5, "total": 10, "message": "halfway"},
        )
        publisher.start()
        publisher.join()
        event = json.loads(ws.recv(timeout=10))
        assert (event["done"], event["total"], event["message"]) == (5, 10, "halfway")
        assert event["percent"] == 50.0

    # a non-member's handshake is refused before any event could reach them
    with pytest.raises(InvalidStatus, match="403"):
        _socket(celery_worker, client, stranger, job.pk)
