"""The training run page in Chromium: curves grow as epochs arrive over the socket."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD, MembershipFactory, ProjectFactory, UserFactory
from webapp.jobs.services import job_claim, job_create
from webapp.training.models import TrainingRun
from webapp.training.services import _epoch_recorder

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_epoch_points_are_drawn_live(page: Any, transactional_db: Any) -> None:
    admin = UserFactory(username="train-admin")
    project = ProjectFactory(name="Training live")
    MembershipFactory(project=project, user=admin, role="admin")
    job = job_create(kind="train", project=project, params={}, enqueue=False)
    assert job_claim(job_id=job.pk) is not None
    run = TrainingRun.objects.create(project=project, job=job, name="flip mu<0")
    log_in(page, "train-admin", PASSWORD)
    page.goto(f"/training/runs/{run.pk}/")
    page.wait_for_selector("#training-live[data-live='1']", state="attached")
    record = _epoch_recorder(run)
    for epoch, loss in enumerate((0.69, 0.61)):
        point = {"train_loss": loss, "train_accuracy": 0.6, "heldout_loss": loss + 0.02,
                 "heldout_accuracy": 0.58}  # fmt: skip
        publisher = threading.Thread(target=record, args=(epoch, point))
        publisher.start()
        publisher.join()
    page.wait_for_selector("#training-live[data-epochs='2']", state="attached")
    held_out = page.evaluate("document.getElementById('chart-loss').data[1].y")
    assert held_out == pytest.approx([0.71, 0.63])
    assert page.is_visible("#training-cancel")
