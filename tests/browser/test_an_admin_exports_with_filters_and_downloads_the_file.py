"""Exporting through the pages: an admin fills in the form with filters, follows the job's live
progress to the snapshot, downloads a file and finds exactly the pairs the filters keep, texts
byte for byte. Markup in names and texts from users (project, split) shows as text, never runs."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.exports.helpers import add_scores, make_pairs, transcript
from tests.factories import PASSWORD, MembershipFactory, ProjectFactory, UserFactory
from webapp.exports.models import ExportSnapshot
from webapp.pairs.models import Pair

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAME = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> exports'
BAD_SPLIT = "<img src onerror=z>"  # at most 20 characters, as splits are


def _inert(page: Any) -> None:
    """Nothing injected ran or became an element."""
    assert page.evaluate("window.pwned") is None
    assert page.locator("main img, main script, img[onerror]").count() == 0


def test_an_admin_exports_with_filters_and_downloads_the_file(
    page: Any, transactional_db: Any, tmp_path: Path
) -> None:
    admin = UserFactory(username="exp-admin")
    project = ProjectFactory(name=NAME)
    MembershipFactory(project=project, user=admin, role="admin")
    made = make_pairs(project, 16)
    flagged = made.pairs[5].pk  # labelled b
    add_scores(project, made, flag_ids=(flagged,))  # mu = 0.25 k - 1 for pair k
    odd = made.pairs[13].pk
    Pair.objects.filter(pk=odd).update(split=BAD_SPLIT)
    made.expected[odd]["split"] = BAD_SPLIT

    log_in(page, "exp-admin", PASSWORD)
    page.goto(f"/projects/{project.pk}/exports/")
    assert NAME in page.inner_text("h1")
    _inert(page)
    page.select_option("#id_file_format", "jsonl")
    page.check("#id_with_margin")
    page.check("#id_drop_flagged")
    page.fill("#id_min_strength", "-0.5")
    page.click("#export-submit")
    page.wait_for_url("**/jobs/*/")
    page.wait_for_selector("#job-progress[data-status=succeeded]", timeout=120_000)
    assert page.get_attribute("#job-progress", "data-live") == "1"  # progress came live
    assert page.inner_text("[data-percent]") == "100.0%"
    _inert(page)
    page.click("text=See the result")
    page.wait_for_selector("#export-files")
    _inert(page)

    snapshot = ExportSnapshot.objects.get(project=project)
    assert snapshot.is_ready
    assert snapshot.filters == {
        "drop_flagged": True,
        "min_strength": -0.5,
        "reviewed_only": False,
        "split": "",
    }
    keep = {
        pair.pk
        for k, pair in enumerate(made.pairs)
        if pair.imported_label in ("a", "b") and pair.pk != flagged and 0.25 * k - 1 >= -0.5
    }
    files = page.locator("#export-files tbody tr")
    assert files.count() == len(snapshot.files)  # each split's file and README.md
    assert BAD_SPLIT in page.inner_text("#export-files")  # the odd split, shown as text
    # the card escapes names for the hubs that render it as markdown; the page shows it as is
    assert html.escape(BAD_SPLIT, quote=False) in page.inner_text("#dataset-card")

    rows: list[dict[str, Any]] = []
    for entry in snapshot.files[:-1]:
        with page.expect_download() as info:
            page.click(f"#export-files a:text-is('{entry['name']}')")
        saved = tmp_path / entry["name"]
        info.value.save_as(saved)
        # lines end at "\n" only: texts may hold a raw U+2028, which str.splitlines cuts at
        lines = saved.read_bytes().decode("utf-8").split("\n")
        assert lines.pop() == ""
        rows += [json.loads(line) for line in lines]
    assert sorted(r["pair_id"] for r in rows) == sorted(keep)
    for row in rows:
        expected = made.expected[row["pair_id"]]
        prompt = expected["prompt"]
        assert row["prompt"] == (prompt if isinstance(prompt, str) else transcript(prompt))
        chosen, rejected = ("a", "b") if expected["label"] == "a" else ("b", "a")
        assert (row["chosen"], row["rejected"]) == (expected[chosen], expected[rejected])
        assert row["split"] == expected["split"]
        assert row["flags"] is None and row["margin"] == max(row["mu"], 0)
    assert any("<script>" in r["prompt"] + r["chosen"] + r["rejected"] for r in rows)

    page.goto(f"/projects/{project.pk}/exports/")
    listed = page.locator("#exports tbody tr").first.inner_text()
    assert "v1" in listed and "Ready" in listed and str(len(keep)) in listed
    assert "no flagged" in listed and "mu ≥ -0.5" in listed
    _inert(page)
