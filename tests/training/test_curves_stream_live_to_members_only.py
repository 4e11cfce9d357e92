"""Each epoch's point reaches the run page's socket as it is recorded, and is stored."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from tests.factories import MembershipFactory, UserFactory
from webapp.training.models import TrainingRun
from webapp.training.services import _epoch_recorder


def _socket(live_app: Any, client: Any, user: Any, run_id: int) -> Any:
    from websockets.sync.client import connect

    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    url = live_app.url.replace("http", "ws") + f"/ws/training/{run_id}/"
    return connect(url, additional_headers={"Cookie": cookie, "Origin": live_app.url})


def test_an_epoch_point_is_streamed_and_stored(celery_worker: Any, client: Any) -> None:
    from websockets.exceptions import InvalidStatus

    member = UserFactory(username="member")
    membership = MembershipFactory(user=member, role="reviewer")
    run = TrainingRun.objects.create(project=membership.project, name="none")
    point = {"train_loss": 0.6, "train_accuracy": 0.7, "heldout_loss": 0.65,
             "heldout_accuracy": 0.66}  # fmt: skip
    record = _epoch_recorder(run)
    with _socket(celery_worker, client, member, run.pk) as ws:
        # from a plain thread, as a worker would
        publisher = threading.Thread(target=record, args=(0, point))
        publisher.start()
        publisher.join()
        event = json.loads(ws.recv(timeout=10))
    assert event["type"] == "training.epoch" and event["epoch"] == 0
    assert event["heldout_accuracy"] == 0.66
    run.refresh_from_db()
    assert run.curves == {k: [v] for k, v in point.items()}
    with pytest.raises(InvalidStatus, match="403"):
        _socket(celery_worker, client, UserFactory(username="stranger"), run.pk)
