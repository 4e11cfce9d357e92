"""The steps case of a scoring run on a real worker: the step head scores every step out of
fold from the bundled MiniLM, the run stores a StepScore per solution and the step flags on
the items (the final-answer contradiction on a hand-made solution), and the follow-up asks for
one more answer on each flagged solution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.scoring.test_a_scoring_run_on_a_worker_stores_every_labelled_pair import finish
from webapp.flags.models import Flag
from webapp.imports.services import import_batch_create, import_run
from webapp.jobs.models import Job
from webapp.pairs.models import Item
from webapp.projects.models import Project
from webapp.scoring.models import ScoringRun, StepScore
from webapp.scoring.services import ScoringOptions, scoring_run_create

pytestmark = pytest.mark.slow

RIGHT = [
    "We add {a} and {b} to get {c}.",
    "Multiplying, {a} times one is {a}.",
    "So the total is {c}.",
    "Checking: {c} minus {b} is {a}.",
]
WRONG = "Here 2 + 2 = 5, so everything after is off by one."


def _file(path: Path, n: int) -> Path:
    rows = []
    for i in range(n):
        label = [-1, 0, 1, 2][i % 4]
        a, b = i + 1, 2 * i + 3
        steps = [s.format(a=a, b=b, c=a + b) for s in RIGHT]
        if label >= 0:
            steps[label] = WRONG
        rows.append({"id": f"s{i}", "problem": f"What is {a} + {b}?", "steps": steps,
                     "final_answer_correct": label == -1, "label": label})  # fmt: skip
    # every step labelled right, yet its final answer is wrong: the contradiction flag
    rows[0]["final_answer_correct"] = False
    path.write_text(json.dumps(rows))
    return path


def test_a_steps_run_scores_the_steps_and_flags_the_contradiction(
    celery_worker: Any, tmp_path: Path
) -> None:
    project = Project.objects.create(name="steps run", label_scheme="steps", votes_per_pair=1)
    batch = import_batch_create(project=project, path=_file(tmp_path / "s.json", 40),
                                file_name="s.json")  # fmt: skip
    import_run(batch=batch)
    assert Item.objects.filter(project=project).count() == 40
    run = scoring_run_create(project=project, options=ScoringOptions(n_folds=4))
    job = finish(run)
    assert job.status == Job.Status.SUCCEEDED, job.error
    run = ScoringRun.objects.get(pk=run.pk)
    assert run.complete and run.n_pairs == 40
    scores = StepScore.objects.filter(run=run)
    assert scores.count() == 40
    assert all(len(s.p_correct) == 4 for s in scores)
    summary = run.summary
    # the wrong step is one fixed sentence: the head finds it, far above the baselines
    assert summary["processbench"]["f1"] > 0.6 > summary["random_step"]["f1"]
    assert summary["all_correct"]["f1"] == 0
    first = Item.objects.get(project=project, external_id="s0")
    flag = Flag.objects.get(scoring_run=run, item=first, kind=Flag.Kind.ANSWER_CONTRADICTION)
    assert flag.pair_id is None and flag.details == {"way": "steps_right_answer_wrong", "human": -1}
    first.refresh_from_db()
    assert first.answers_wanted == 2  # the follow-up: one more answer than the project's one
