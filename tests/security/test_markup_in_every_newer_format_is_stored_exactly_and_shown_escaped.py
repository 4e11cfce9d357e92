"""Markup and script in every text of a newer format's record (items, step-by-step solutions,
judge verdicts, benchmarks) are stored exactly as given, and the pages that show them (the
project page, the labelling pages of items and of steps, the import report that quotes a bad
value) escape them."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.labelling.helpers import annotator
from tests.security.formats import Format, project_for, write
from tests.security.hostile import PAYLOAD, PAYLOAD_MARKUP, SCRIPT, raw_markup, store_pandalm
from tests.security.newer_formats import FORMATS, IDS
from webapp.benchmarks.models import Benchmark
from webapp.judges.models import JudgeVerdict
from webapp.pairs.models import Item, ItemResponse, Pair, Prompt, Response

pytestmark = pytest.mark.django_db


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _leaves(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _leaves(inner)


def _stored_texts() -> list[str]:
    """Every text PrefLab holds of imported data (a small database's worth)."""
    texts = [*Prompt.objects.values_list("text", flat=True)]
    for text, model in Response.objects.values_list("text", "source_model"):
        texts += [text, model]
    for model in (Pair, Item):
        for external_id, split, metadata in model.objects.values_list(
            "external_id", "split", "metadata"
        ):
            texts += [external_id, split, *_leaves(metadata)]
    for metadata in ItemResponse.objects.values_list("metadata", flat=True):
        texts += [*_leaves(metadata)]
    return [*texts, *JudgeVerdict.objects.values_list("reason", flat=True)]


def _project_of(fmt: Format, project: Any) -> int:
    if fmt.kind == "benchmark":
        return Benchmark.objects.get(name=fmt.benchmark).project_id
    return int(project.pk)


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_every_text_is_stored_exactly_and_each_page_escapes_it(
    fmt: Format, tmp_path: Path, admin_user: Any, admin_client: Any
) -> None:
    project = project_for(fmt, admin_user)
    if fmt.kind == "verdicts":
        store_pandalm(project, tmp_path)  # the pairs the verdicts are about
    records = fmt.unit(1, PAYLOAD)
    path = write(tmp_path / f"markup-{fmt.name}{fmt.suffix}", records)
    assert fmt.run(project, path, created_by=admin_user).errors == []
    stored = _stored_texts()
    texts = [t for t in _leaves(records) if SCRIPT in t]
    assert texts
    missing = [t for t in texts if not any(t in s for s in stored)]
    assert not missing, f"not stored exactly: {missing}"
    p = _project_of(fmt, project)
    labeller = Client()
    labeller.force_login(annotator(project, "labeller"))
    pages = {
        "project": (admin_client, f"/projects/{p}/"),
        "label": (labeller, f"/projects/{p}/label/"),
        "steps": (labeller, f"/projects/{p}/label/steps/"),
    }
    for name in (n for n in fmt.pages if n in pages):
        client, url = pages[name]
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        assert raw_markup(content, PAYLOAD_MARKUP) == [], url
        if name != "project":  # a labelling page shows the texts whole, as text
            assert html.escape(SCRIPT) in content, url


QUOTING = [f for f in FORMATS if f.quote is not None]


@pytest.mark.parametrize("fmt", QUOTING, ids=[f.name for f in QUOTING])
def test_a_report_that_quotes_a_bad_value_shows_it_escaped(
    fmt: Format, tmp_path: Path, admin_user: Any, admin_client: Any
) -> None:
    project = project_for(fmt, admin_user)
    if fmt.kind == "verdicts":
        store_pandalm(project, tmp_path)
    records = fmt.lines(range(1, 3), "good")
    assert fmt.quote is not None
    fmt.quote(records[0], SCRIPT)
    path = write(tmp_path / f"quoted-{fmt.name}{fmt.suffix}", records)
    outcome = fmt.run(project, path, created_by=admin_user)
    file, line, _, reason = outcome.errors[0]
    assert (file, line) == (path.name, 1)
    assert SCRIPT in reason, reason  # the value, quoted as it was
    if outcome.batch is not None:  # verdicts and benchmarks report to their job, as JSON
        content = admin_client.get(f"/imports/{outcome.batch.pk}/").content.decode()
        assert raw_markup(content, PAYLOAD_MARKUP) == []
        assert html.escape(reason) in content
