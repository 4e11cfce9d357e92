"""The item labelling page in Chromium for the two schemes the end-to-end test does not drive:
best-worst by two number keys, and pairwise per attribute by one row of keys per attribute.
Dataset HTML in a response stays inert text."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from tests.labelling.helpers import annotator, make_items
from webapp.labelling.models import ItemAnswer, Vote
from webapp.pairs.models import Response
from webapp.projects.services import project_create

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def answered(page: Any) -> None:
    page.wait_for_selector("#stage section.pair-done")
    page.wait_for_selector("#save-state[data-state=saved]")


def test_best_and_worst_are_two_keys(page: Any, transactional_db: Any) -> None:
    settings = {"ranking_mode": "best_worst", "best_worst_shown": 4}
    project = project_create(
        name="BW", label_scheme="ranking", scheme_settings=settings, votes_per_pair=1
    )
    make_items(project, 1, k=6)
    Response.objects.filter(text="Response 0.3").update(
        text="<img src=x onerror=alert(1)> **bold**"
    )
    annotator(project, "bw", login=True)
    log_in(page, "bw", PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    assert page.locator("details.response").count() == 4
    assert page.locator("#stage img").count() == 0  # the raw tag is shown as text or dropped
    for key in ("2", "2", "Backspace", "4", "1"):  # a second 2 cannot be the worst: refused
        page.keyboard.press(key)
    assert " ".join(page.inner_text("#answer").split()) == "Best: 4 Worst: 1"
    page.keyboard.press("Enter")
    answered(page)
    answer = ItemAnswer.objects.get()
    shown = answer.shown_order
    assert answer.payload == {"shown": sorted(shown), "best": shown[3], "worst": shown[0]}
    assert (
        Vote.objects.count() == 5
    )  # best over three others, two others over the worst, best over worst


def test_pairwise_attributes_take_a_row_of_keys_each(page: Any, transactional_db: Any) -> None:
    settings = {
        "attributes": [
            {"name": "correct", "low": 0, "high": 1},
            {"name": "clear", "low": 0, "high": 1},
        ],
        "overall": {},
    }
    project = project_create(
        name="PA", label_scheme="pairwise_attributes", scheme_settings=settings, votes_per_pair=1
    )
    make_items(project, 1, k=2)
    annotator(project, "pa", login=True)
    log_in(page, "pa", PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    assert "Which response is better on each attribute" in page.inner_text("#task")
    for key in ("1", "3", "5", "2"):  # correct: response 1; clear: tie; 5 refused; overall: 2
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    answered(page)
    answer = ItemAnswer.objects.get()
    first_shown = answer.shown_order[0]  # position of "Response 1" on screen
    one, two = ("a", "b") if first_shown == 0 else ("b", "a")
    assert answer.payload == {"overall": two, "attributes": {"correct": one, "clear": "tie"}}
    assert set(Vote.objects.values_list("pair__attribute", "choice")) == {
        ("correct", one),
        ("clear", "tie"),
        ("", two),
    }
