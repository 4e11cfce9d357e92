"""In a real browser, the script and event handlers hidden in an imported pair's texts never
run, on the pair page or the labelling page, and the markup shows as text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD, MembershipFactory, ProjectFactory, UserFactory
from tests.security.hostile import HOSTILE_MAPPING, SCRIPT, hostile_record, run_import
from webapp.pairs.models import Pair

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _ran(page: Any) -> bool:
    page.wait_for_timeout(300)  # let an image error or a late handler fire, if one could
    return bool(page.evaluate("() => window.__pwned === 1"))


def test_no_imported_script_runs_on_the_pair_and_labelling_pages(
    page: Any, transactional_db: Any, tmp_path: Path
) -> None:
    project = ProjectFactory(name="Hostile texts in a browser")
    admin = UserFactory(username="xss-admin")
    MembershipFactory(project=project, user=admin, role="admin")
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(hostile_record(1)) + "\n")
    assert run_import(project, path, fmt="mapping", mapping=HOSTILE_MAPPING).pairs_created == 1
    pair = Pair.objects.get(project=project)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, "xss-admin", PASSWORD)

    page.goto(f"/projects/{project.pk}/pairs/{pair.pk}/")
    assert SCRIPT in page.inner_text("main")
    assert not _ran(page)
    page.goto(f"/projects/{project.pk}/")
    assert not _ran(page)
    page.goto(f"/projects/{project.pk}/label/")
    page.wait_for_selector(".pair")
    assert SCRIPT in page.inner_text(".pair")
    assert page.locator(".pair script, .pair img, .pair svg").count() == 0
    for link in page.locator(".pair a").all():
        assert not (link.get_attribute("href") or "").lower().startswith("javascript:")
    assert not _ran(page)
    assert dialogs == []
