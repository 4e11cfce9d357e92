"""Importing through the page: upload, live progress over the socket, the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.conftest import shared_data
from tests.factories import PASSWORD, MembershipFactory, ProjectFactory, UserFactory
from webapp.labelling.models import Vote
from webapp.pairs.models import Pair

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TEST_DATA = Path(__file__).resolve().parents[1] / "imports" / "data"


def pandalm_file() -> Path:
    return shared_data("pandalm/testset-v1.json", or_else=TEST_DATA / "pandalm-sample.json")


def upload(page: Any, project_id: int, path: Path) -> None:
    page.goto(f"/projects/{project_id}/import/")
    page.set_input_files("#id_file", str(path))
    page.click("#upload-submit")
    page.wait_for_url("**/jobs/*/")
    page.wait_for_selector("#job-progress[data-status=succeeded]", timeout=120_000)


def test_an_admin_imports_pandalm_votes_through_the_page(page: Any, transactional_db: Any) -> None:
    admin = UserFactory(username="imp-admin")
    project = ProjectFactory(name="PandaLM via page")
    MembershipFactory(project=project, user=admin, role="admin")
    log_in(page, "imp-admin", PASSWORD)
    source = pandalm_file()
    upload(page, project.pk, source)
    assert page.get_attribute("#job-progress", "data-live") == "1"  # progress came live
    assert page.inner_text("[data-percent]") == "100.0%"
    page.click("text=See the result")
    page.wait_for_selector("#created")
    records = json.loads(source.read_text())
    created = int(page.inner_text("#created"))
    rejected = int(page.inner_text("#rejected"))
    assert created + rejected == len(records)
    assert Pair.objects.filter(project=project).count() == created
    assert Vote.objects.filter(pair__project=project).count() == 3 * created
    # again: nothing new
    upload(page, project.pk, source)
    page.click("text=See the result")
    assert int(page.inner_text("#created")) == 0


def test_a_malformed_file_gets_a_line_numbered_report(
    page: Any, transactional_db: Any, tmp_path: Path
) -> None:
    admin = UserFactory(username="imp-admin2")
    project = ProjectFactory(name="Broken via page")
    MembershipFactory(project=project, user=admin, role="admin")
    bad = tmp_path / "broken.jsonl"
    bad.write_text(
        json.dumps({"prompt": "<script>alert(1)</script>", "chosen": "a", "rejected": "b"})
        + "\n{not json\n"
        + json.dumps({"prompt": "p", "chosen": ["x"], "rejected": "b"})
        + "\n"
    )
    log_in(page, "imp-admin2", PASSWORD)
    upload(page, project.pk, bad)
    page.click("text=See the result")
    rows = page.locator("#import-errors tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().split("\t")[:2] == ["broken.jsonl", "2"]
    assert rows.nth(1).inner_text().split("\t")[:3] == ["broken.jsonl", "3", "chosen"]
    # the good record is in, and its script tag is shown as text, never run
    page.goto(f"/projects/{project.pk}/")
    assert "<script>alert(1)</script>" in page.inner_text("#pairs")
    assert page.locator("#pairs script").count() == 0
