"""The review pages in Chromium: three flagged pairs reviewed with the keyboard, a bulk flip
through its preview and confirmation, and every decision on the pairs' history pages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from tests.review.helpers import in_severity_order, reviewer, scored_flagged_pairs
from webapp.projects.models import Project
from webapp.review import queue
from webapp.review.models import ReviewDecision

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_reviewer_decides_with_the_keyboard_and_in_bulk(page: Any, transactional_db: Any) -> None:
    project = Project.objects.create(name="Review in the browser")
    _, pairs = scored_flagged_pairs(project, [-3.0, -2.0, -1.0, 0.01, 0.02, 0.03])
    in_severity_order(project)  # the learning order has its own test
    queue.review_queue_rebuild(project=project)
    reviewer(project, "rev-kb", login=True)
    log_in(page, "rev-kb", PASSWORD)

    page.goto(f"/projects/{project.pk}/review/?state=undecided")
    rows = page.locator("#queue tbody tr[data-pair]")
    assert rows.count() == 6
    assert rows.first.get_attribute("data-pair") == str(pairs[0].pk)  # most severe first
    rows.first.locator("a").click()
    page.wait_for_selector(f"#review[data-pair='{pairs[0].pk}']")
    page.keyboard.press("?")
    assert page.is_visible("#shortcuts")
    page.keyboard.press("Escape")

    # flip, then a reason and keep, then drop: each moves on to the next undecided pair
    page.keyboard.press("f")
    page.wait_for_selector(f"#review[data-pair='{pairs[1].pk}']")
    page.keyboard.press("n")
    page.keyboard.type("the label is right")
    page.keyboard.press("Escape")
    page.keyboard.press("k")
    page.wait_for_selector(f"#review[data-pair='{pairs[2].pk}']")
    page.keyboard.press("d")
    page.wait_for_selector(f"#review[data-pair='{pairs[3].pk}']")
    decided = dict(ReviewDecision.objects.values_list("pair_id", "action"))
    assert decided == {pairs[0].pk: "flip", pairs[1].pk: "keep", pairs[2].pk: "drop"}

    # bulk: flip every ambiguous pair, with a preview and a confirmation
    page.goto(f"/projects/{project.pk}/review/?kind=ambiguous")
    page.select_option("#bulk-action", "flip")
    page.fill("#bulk-reason", "ambiguous pairs were imported reversed")
    page.click("#bulk-preview")
    page.wait_for_selector("#bulk-count")
    assert "3 pairs will be decided" in page.inner_text("#bulk-count")
    assert ReviewDecision.objects.count() == 3  # nothing before the confirmation
    page.click("#bulk-confirm")
    page.wait_for_selector("#queue")
    assert ReviewDecision.objects.filter(action="flip", bulk__isnull=False).count() == 3

    for pair in pairs:
        page.goto(f"/projects/{project.pk}/pairs/{pair.pk}/history/")
        text = page.inner_text("#history")
        for d in ReviewDecision.objects.filter(pair=pair):
            assert d.get_action_display() in text, (pair.pk, d.action)
        assert "Imported with label a" in text
    page.goto(f"/projects/{project.pk}/pairs/{pairs[1].pk}/history/")
    assert "the label is right" in page.inner_text("#history")
