"""The labelling page in Chromium: keyboard only, prefetched pairs, undo, inert dataset HTML."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD
from tests.labelling.helpers import annotator, lease, make_pairs
from webapp.labelling.models import Assignment, Vote
from webapp.projects.models import Project

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def shown_token(page: Any) -> str:
    return str(page.get_attribute("#stage section.pair", "data-token"))


def wait_for_next(page: Any, token: str) -> str:
    page.wait_for_function(
        "t => { const s = document.querySelector('#stage section.pair');"
        " return s && s.dataset.token !== t; }",
        arg=token,
    )
    return shown_token(page)


def wait_saved(page: Any) -> None:
    page.wait_for_selector("#save-state[data-state=saved]")


def keyboard_log_in(page: Any, username: str) -> None:
    page.goto("/login/")  # the username field has autofocus
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login/" not in url)


def test_an_annotator_labels_five_pairs_with_the_keyboard_alone(
    page: Any, transactional_db: Any
) -> None:
    project = Project.objects.create(name="Keyboard", votes_per_pair=1)
    make_pairs(project, 7)
    annotator(project, "kb-ann", login=True)
    keyboard_log_in(page, "kb-ann")
    page.goto(f"/projects/{project.pk}/label/")
    page.keyboard.press("?")
    assert page.is_visible("#shortcuts")
    page.keyboard.press("Escape")
    assert not page.is_visible("#shortcuts")

    # (keys, expected side, expected strength, rationale)
    plan = [
        ("1w", "left", 1, ""),
        ("2q", "right", 0, ""),
        ("3", "tie", None, ""),
        ("4", "both_bad", None, ""),
        ("2e", "right", 2, "Second one cites sources"),
    ]
    tokens = []
    for keys, _, _, rationale in plan:
        token = shown_token(page)
        tokens.append(token)
        for key in keys:
            page.keyboard.press(key)
        if rationale:
            page.keyboard.press("n")
            page.keyboard.type(rationale)
        page.keyboard.press("Enter")
        wait_for_next(page, token)
    wait_saved(page)
    assert page.inner_text("#my-votes") == "5"

    votes = {str(v.assignment.token): v for v in Vote.objects.select_related("assignment")}
    assert len(votes) == 5
    for token, (_, side, strength, rationale) in zip(tokens, plan, strict=True):
        v = votes[token]
        assert v.shown_order == v.assignment.shown_order
        if side in ("left", "right"):
            a_on_left = v.shown_order == "ab"
            assert v.choice == ("a" if (side == "left") == a_on_left else "b")
        else:
            assert v.choice == side
        assert v.strength == strength
        assert v.rationale == rationale
        assert v.time_taken_ms is not None and v.time_taken_ms > 0
    # the page always held the next pair already: two leases live, never more
    assert Assignment.objects.filter(state="leased").count() == 2


def test_undo_brings_back_the_last_pair_with_its_answer(page: Any, transactional_db: Any) -> None:
    project = Project.objects.create(name="Undo", votes_per_pair=1)
    make_pairs(project, 4)
    annotator(project, "undo-ann", login=True)
    log_in(page, "undo-ann", PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    first = shown_token(page)
    page.keyboard.press("2")
    page.keyboard.press("e")
    page.keyboard.press("Enter")
    second = wait_for_next(page, first)
    page.keyboard.press("u")
    page.wait_for_function(
        "t => document.querySelector('#stage section.pair').dataset.token === t", arg=first
    )
    assert page.get_attribute("button.choice[data-choice=right]", "aria-pressed") == "true"
    assert page.get_attribute("button.strength[data-strength='2']", "aria-pressed") == "true"
    wait_saved(page)
    assert not Vote.objects.exists()
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    assert wait_for_next(page, first) == second  # the pair that was on screen comes back
    wait_saved(page)
    assert Vote.objects.get().choice == "tie"


def test_dataset_html_renders_as_inert_text(page: Any, transactional_db: Any) -> None:
    project = Project.objects.create(name="Hostile", votes_per_pair=1)
    script = "<script>window.__pwned = 'script'</script>"
    img = "<img src=x onerror=\"window.__pwned = 'img'\">"
    make_pairs(project, 3, prompt="Say <b>hi</b> {i}", a=script + " {i}", b=img + " {i}")
    annotator(project, "xss-ann", login=True)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, "xss-ann", PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    for _ in range(2):  # the first pair came with the page, the next ones through htmx
        sides = page.locator("#stage article.side .md")
        texts = {sides.nth(0).inner_text(), sides.nth(1).inner_text()}
        assert any(t.startswith(script) for t in texts), texts
        assert any(t.startswith(img) for t in texts), texts
        assert "Say <b>hi</b>" in page.inner_text("#stage .prompt")
        token = shown_token(page)
        page.keyboard.press("3")
        page.keyboard.press("Enter")
        wait_for_next(page, token)
        wait_saved(page)
    for where in ("#stage", "#buffer"):
        assert page.locator(f"{where} script, {where} img, {where} b").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []


def test_the_agreement_page_draws_its_charts(page: Any, transactional_db: Any) -> None:
    from webapp.labelling.aggregation import votes_aggregate
    from webapp.labelling.services import vote_submit

    project = Project.objects.create(name="Charts", votes_per_pair=2)
    make_pairs(project, 6)
    people = [annotator(project, f"chart-ann{i}") for i in range(2)]
    annotator(project, "chart-admin", role="admin", login=True)
    for person in people:
        for i in range(6):
            held = lease(project, person)
            assert held is not None
            side = ("left", "right", "tie")[i % 3]
            vote_submit(
                project=project,
                annotator=person,
                token=held.token,
                round=0,
                side=side,
                strength=1 if side != "tie" else None,
            )
    votes_aggregate(project=project)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, "chart-admin", PASSWORD)
    page.goto(f"/projects/{project.pk}/agreement/")
    for chart in ("labels", "confidence", "position", "time", "kappa"):
        page.wait_for_selector(f"#chart-{chart} .main-svg")
    assert page.inner_text("#alpha") not in ("", "n/a")
    assert errors == []
