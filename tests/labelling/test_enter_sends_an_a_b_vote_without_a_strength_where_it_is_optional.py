"""In Chromium: where a project makes the strength optional, the labelling page says so and
Enter sends an A / B vote without one (a strength chosen is still sent); where it is required,
the page says that, and Enter waits for a level."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from tests.labelling.helpers import annotator, make_pairs
from tests.labelling.test_the_labelling_page_works_from_the_keyboard_alone import (
    shown_token,
    wait_for_next,
    wait_saved,
)
from webapp.labelling.models import Vote
from webapp.projects.models import Project

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_enter_sends_a_vote_without_a_strength_when_it_is_optional(
    page: Any, transactional_db: Any
) -> None:
    project = Project.objects.create(name="Optional", votes_per_pair=1, strength_required=False)
    make_pairs(project, 4)
    annotator(project, "opt-ann", login=True)
    log_in(page, "opt-ann", PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    assert "strength is optional: Enter sends without one" in page.inner_text("#strength-rule")
    first = shown_token(page)
    page.keyboard.press("1")
    assert page.is_enabled("#submit")
    page.keyboard.press("Enter")
    second = wait_for_next(page, first)
    page.keyboard.press("2")
    page.keyboard.press("w")
    page.keyboard.press("Enter")
    wait_for_next(page, second)
    wait_saved(page)
    votes = {str(v.assignment.token): v.strength for v in Vote.objects.select_related("assignment")}
    assert votes == {first: None, second: 1}


def test_the_page_says_a_required_strength_is_required(page: Any, transactional_db: Any) -> None:
    project = Project.objects.create(name="Required", votes_per_pair=1)
    make_pairs(project, 2)
    annotator(project, "req-ann", login=True)
    log_in(page, "req-ann", PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    assert page.inner_text("#strength-rule").startswith("strength is required")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    assert not page.is_enabled("#submit")
    assert "How much better?" in page.inner_text("#hint")
    page.wait_for_timeout(300)
    assert not Vote.objects.exists()
