"""In Chromium: after a reviewer's answers teach the noise model, the queue page shows how
often each flag kind was confirmed and why each pair is where it is, and a pair's page says
why it is next; a decision moves on to the undecided pair most likely wrong."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from tests.review.helpers import reviewer, scored_flagged_pairs
from webapp.flags.models import Flag
from webapp.projects.models import Project
from webapp.review.decisions import review_decide
from webapp.review.learning import noise_fit_create, noise_fit_execute
from webapp.review.models import ReviewItem
from webapp.review.queue import review_queue_rebuild

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_precision_and_reasons_on_the_review_pages(page: Any, transactional_db: Any) -> None:
    project = Project.objects.create(name="Learning <b>queue</b>")
    mus = [0.4, -0.2, 0.9, 0.1, -0.5, 0.3, 0.7, -0.1, 0.2, 0.6] * 3
    _, pairs = scored_flagged_pairs(project, mus, kinds=["unstable"] * len(mus))
    planted = {i for i in range(len(pairs)) if i % 5 == 2}  # the flips carry a check flag
    Flag.objects.bulk_create(
        [Flag(project=project, pair=pairs[i], kind="contrast_inconsistent", severity=2,
              source="checks") for i in planted]
    )  # fmt: skip
    rita = reviewer(project, "rev-learn", login=True)
    for i in range(15):
        action = "flip" if i in planted else "keep"
        review_decide(project=project, pair_id=pairs[i].pk, action=action, reviewer=rita)
    noise_fit_execute(run=noise_fit_create(project=project, job=False), progress=print)
    review_queue_rebuild(project=project)
    log_in(page, "rev-learn", PASSWORD)

    page.goto(f"/projects/{project.pk}/review/")
    precision = page.inner_text("#flag-precision")
    assert "Reward model inconsistent on a contrast pair" in precision
    assert "100% confirmed, 3 of 3 reviewed" in precision
    assert "Unstable" in precision and "3 of 15 reviewed" in precision
    assert "fitted on 15 answers" in page.inner_text("#noise-model")
    first = page.locator("#queue tbody tr[data-pair]").first
    assert "check: Reward model inconsistent" in first.locator("td.why").inner_text()
    first_pair = int(first.get_attribute("data-pair"))
    assert first_pair in {pairs[i].pk for i in planted if i >= 15}

    first.locator("a").click()
    page.wait_for_selector(f"#review[data-pair='{first_pair}']")
    assert "P(wrong)" in page.inner_text("#why-here")
    page.keyboard.press("f")
    queued = ReviewItem.objects.filter(project_id=project.pk).exclude(pair_id=first_pair)
    decided = {pairs[i].pk for i in range(15)}
    expected = next(i.pair_id for i in queued.order_by("rank") if i.pair_id not in decided)
    page.wait_for_selector(f"#review[data-pair='{expected}']")
