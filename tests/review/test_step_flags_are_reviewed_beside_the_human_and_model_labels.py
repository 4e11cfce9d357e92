"""Review of a steps project's flags: the queue lists the flagged solution, its page shows each
step with the labels in force, each annotator's and the model's P(correct) side by side, and a
decision is appended to a log the database refuses to change; the effective labels (and so
the exports and the next run) follow it."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from tests.labelling.helpers import annotator
from tests.review.helpers import reviewer
from webapp.flags.models import Flag
from webapp.labelling.step_labels import step_labels
from webapp.pairs.models import Item
from webapp.projects.models import Project
from webapp.review.models import StepDecision
from webapp.scoring.models import ScoringRun, StepScore

pytestmark = pytest.mark.django_db


def _flagged(tmp_path: Path) -> tuple[Project, Item]:
    row = {"id": "s", "problem": "What is <b>1</b> + \\(x_1\\)?", "final_answer_correct": False,
           "steps": ["Take x_1 = 1.", "1 + 1 = 2.", "So 3."], "label": -1}  # fmt: skip
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(row))
    call_command("import_pairs", str(path), "--project", "rv", stdout=StringIO(),
                 stderr=StringIO())  # fmt: skip
    project = Project.objects.get(name="rv")
    item = Item.objects.get(project=project)
    run = ScoringRun.objects.create(project=project, complete=True, finished_at=timezone.now())
    StepScore.objects.create(run=run, item=item, p_correct=[0.9, 0.8, 0.1],
                             predicted_first_error=2, human_first_error=-1, score_min=0.1,
                             score_product=0.072, score_last=0.1)  # fmt: skip
    Flag.objects.create(project=project, item=item, kind=Flag.Kind.ANSWER_CONTRADICTION,
                        severity=4, source="step_scoring", scoring_run=run,
                        details={"way": "steps_right_answer_wrong", "human": -1})  # fmt: skip
    return project, item


def test_the_flagged_solution_is_reviewed_and_the_decision_takes_effect(
    client: Any, tmp_path: Path
) -> None:
    project, item = _flagged(tmp_path)
    user = reviewer(project, "rita")
    client.force_login(user)
    queue = client.get(f"/projects/{project.pk}/review/steps/")
    assert queue.status_code == 200
    assert f"/review/steps/{item.pk}/" in queue.content.decode()
    # one imported answer: nobody to agree with yet
    assert (
        "alpha (ordinal: bad &lt; neutral &lt; good):\n  <b>not defined yet"
        in queue.content.decode()
    )
    page = client.get(f"/projects/{project.pk}/review/steps/{item.pk}/").content.decode()
    assert "&lt;b&gt;1&lt;/b&gt;" in page and "<b>1</b>" not in page  # dataset HTML is text
    assert '<span class="math">\\(x_1\\)</span>' in page
    assert "0.10" in page and "0.90" in page  # the model's P(correct) per step
    assert "import-p" in page  # the imported labeller's column
    assert "model first error: step 3" in page and "human first error: none" in page

    response = client.post(
        f"/projects/{project.pk}/review/steps/{item.pk}/decide/",
        {"outcome": "set", "first_error": "2", "reason": "the last step adds wrongly"},
    )
    assert response.status_code == 302
    decision = StepDecision.objects.get()
    assert decision.labels_before == [1, 1, 1] and decision.labels_after == [1, 1, -1]
    assert decision.reviewer == user and decision.flag is not None
    label = step_labels(project=project, n_steps={item.pk: 3})[item.pk]
    assert (label.labels, label.first_error, label.source) == ([1, 1, -1], 2, "review")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StepDecision.objects.filter(pk=decision.pk).update(reason="changed")


def test_an_annotator_cannot_open_the_step_review(client: Any, tmp_path: Path) -> None:
    project, item = _flagged(tmp_path)
    client.force_login(annotator(project, "ann"))
    assert client.get(f"/projects/{project.pk}/review/steps/{item.pk}/").status_code == 404
