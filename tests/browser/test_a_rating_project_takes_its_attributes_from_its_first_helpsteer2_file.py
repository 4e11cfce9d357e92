"""In Chromium: a small HelpSteer2-style file uploaded through the import page of a new rating
project gives the project its attribute names, which the report and the import page show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from webapp.labelling.models import ItemAnswer
from webapp.projects.schemes import scheme_settings_of
from webapp.projects.services import project_create

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_helpsteer2_file_names_a_new_rating_projects_attributes(
    page: Any, celery_worker: Any, tmp_path: Path
) -> None:
    admin = UserFactory(username="attr-admin")
    project = project_create(name="Rated from HelpSteer2", label_scheme="rating")
    MembershipFactory(project=project, user=admin, role="admin")
    rows = [
        {"prompt": "p1", "response": "a", "helpfulness": 4, "coherence": 3, "verbosity": 1},
        {"prompt": "p1", "response": "b", "helpfulness": 1, "coherence": 2, "verbosity": 3},
        {"prompt": "<b>p2</b>", "response": "x", "helpfulness": 2, "coherence": 4, "verbosity": 0},
        {"prompt": "<b>p2</b>", "response": "y", "helpfulness": 3, "coherence": 4, "verbosity": 2},
    ]
    path = tmp_path / "helpsteer2-small.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    log_in(page, "attr-admin", PASSWORD)
    page.goto(f"/projects/{project.pk}/import/")
    shown = page.locator("#project-attributes li")
    assert shown.count() == 5  # the defaults, before any file
    page.set_input_files("#id_file", str(path))
    page.click("#upload-submit")
    page.wait_for_url("**/jobs/*/")
    page.wait_for_selector("#job-progress[data-status=succeeded]", timeout=120_000)
    page.click("text=See the result")
    page.wait_for_selector("#attributes-set")
    names = ["helpfulness", "coherence", "verbosity"]
    listed = page.locator("#attributes-set li")
    assert [listed.nth(i).get_attribute("data-attribute") for i in range(3)] == names
    assert listed.count() == 3 and "0 to 4" in listed.nth(0).inner_text()
    page.goto(f"/projects/{project.pk}/import/")
    assert page.locator("#project-attributes li").all_inner_texts() == [
        f"{n} (0 to 4)" for n in names
    ]
    project.refresh_from_db()
    assert scheme_settings_of(project).names() == names
    assert ItemAnswer.objects.filter(project=project).count() == 2
