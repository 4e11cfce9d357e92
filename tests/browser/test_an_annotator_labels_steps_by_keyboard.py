"""The step labelling page in Chromium, keyboard only: good / good / bad with "stop at the first
bad step", then a first error marked in first-error mode, then "all correct"; math is kept as
its TeX source and HTML in a step is shown as text."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from tests.labelling.helpers import annotator
from webapp.labelling.models import ItemAnswer
from webapp.pairs.models import Item
from webapp.projects.models import Project

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _solutions(path: Path) -> Path:
    rows = [
        {
            "id": f"s{i}",
            "problem": f"Problem {i}: what is \\(x_1 + 1\\) when x_1 = {i}?",
            "steps": [
                f"Let \\(x_1 = {i}\\).",
                "Then <script>window.hacked = 1</script> we add one.",
                f"So it is {i + 1}.",
                f"The answer is \\(\\boxed{{{i + 1}}}\\).",
            ],
            "final_answer_correct": True,
            "label": -1,
        }
        for i in range(3)
    ]
    path.write_text(json.dumps(rows))
    return path


def test_an_annotator_labels_three_solutions_from_the_keyboard(
    page: Any, transactional_db: Any, tmp_path: Path
) -> None:
    out = StringIO()
    call_command("import_pairs", str(_solutions(tmp_path / "s.json")), "--project", "Steps",
                 stdout=out, stderr=StringIO())  # fmt: skip
    project = Project.objects.get(name="Steps")
    assert project.label_scheme == Project.LabelScheme.STEPS
    user = annotator(project, "steps-ann", login=True)
    log_in(page, "steps-ann", PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")  # the pair page sends a steps project here
    page.wait_for_selector("#steps .step.current")
    assert page.evaluate("window.hacked") is None
    assert "<script>" in page.inner_text("#steps .step[data-index='1']")
    assert page.inner_text("#steps .step[data-index='0'] .math") == "\\(x_1 = 0\\)"
    items = list(Item.objects.filter(project=project).order_by("id"))

    # 1. good, good, bad: with "stop at the first bad step" (on by default), that is enough
    for key in "ggb":
        page.keyboard.press(key)
    assert page.get_attribute("#steps .step[data-index='2']", "data-label") == "-1"
    assert page.is_enabled("#submit")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.querySelector('#steps .step[data-label=\"-1\"]')")

    # 2. first-error mode: down to the second step, mark it
    page.keyboard.press("f")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.get_attribute("#steps .step[data-index='0']", "data-label") == "1"
    assert page.get_attribute("#steps .step[data-index='1']", "data-label") == "-1"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('#steps .step[data-label=\"\"]').length === 4"
    )

    # 3. first-error mode again (the page starts in step mode): every step correct
    page.keyboard.press("f")
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    page.wait_for_selector(".pair-done")

    answers = {
        a.item_id: a.payload
        for a in ItemAnswer.objects.filter(annotator=user, kind="steps").order_by("item_id")
    }
    assert answers == {
        items[0].pk: {"steps": [1, 1, -1, None], "first_error": 2},
        items[1].pk: {"steps": [1, -1, None, None], "first_error": 1},
        items[2].pk: {"steps": [1, 1, 1, 1], "first_error": -1},
    }
    assert all(
        a.time_taken_ms is not None and a.time_taken_ms > 0
        for a in ItemAnswer.objects.filter(annotator=user)
    )
