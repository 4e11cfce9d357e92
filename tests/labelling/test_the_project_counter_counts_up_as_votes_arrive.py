"""The labelling page's project counter counts up as votes arrive: the page's own votes at
once, and everyone's through the figures each vote's answer carries (and the progress
endpoint the page asks every 15 s)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from tests.labelling.helpers import annotator, lease, make_pairs, vote
from tests.labelling.test_the_labelling_page_works_from_the_keyboard_alone import (
    shown_token,
    wait_for_next,
    wait_saved,
)
from webapp.projects.models import Project


@pytest.mark.browser
@pytest.mark.slow
def test_the_counter_counts_each_vote_of_the_page(page: Any, transactional_db: Any) -> None:
    project = Project.objects.create(name="Counter", votes_per_pair=1)
    make_pairs(project, 8)
    annotator(project, "count-ann", login=True)
    log_in(page, "count-ann", PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    assert (page.inner_text("#project-votes"), page.inner_text("#project-wanted")) == ("0", "8")
    for _ in range(3):
        token = shown_token(page)
        page.keyboard.press("3")
        page.keyboard.press("Enter")
        wait_for_next(page, token)
    wait_saved(page)
    assert page.inner_text("#my-votes") == "3"
    assert page.inner_text("#project-votes") == "3"
    assert page.inner_text("#project-percent") == "37.5%"


@pytest.mark.django_db
def test_each_vote_answer_carries_the_project_figures(client: Any, project: Any) -> None:
    make_pairs(project, 4)
    other, me = annotator(project, "other"), annotator(project, "me")
    for _ in range(2):
        held = lease(project, other)
        assert held is not None
        vote(project, other, held)
    cache.clear()  # the figures are cached a few seconds; these are fresh
    client.force_login(me)
    held = lease(project, me)
    assert held is not None
    answer = client.post(
        f"/projects/{project.pk}/label/vote/",
        {"token": held.token, "round": held.round, "choice": "tie"},
    )
    assert answer["X-Vote-Status"] == "stored"
    wanted = 4 * project.votes_per_pair
    assert (answer["X-Project-Votes"], answer["X-Project-Wanted"]) == ("3", str(wanted))
    assert client.get(f"/projects/{project.pk}/label/progress/").json() == {
        "votes": 3,
        "wanted": wanted,
    }
