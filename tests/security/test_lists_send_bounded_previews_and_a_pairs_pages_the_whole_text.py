"""Every list that shows dataset texts sends a bounded preview of each, cut on the server
with its full length shown, and only a pair's own pages send a text whole (a long one
folded). The long texts here are of markup and multi-byte characters: the cut splits neither
a character nor an HTML entity, since it is made before the page escapes the text."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from django.utils.html import escape

from tests.api.conftest import client_for
from tests.review.helpers import scored_flagged_pairs
from webapp.flags.models import Flag
from webapp.labelling.models import HumanLabel
from webapp.labelling.services import gold_set
from webapp.pairs.models import Prompt, Response
from webapp.pairs.previews import FOLD_CHARS, PREVIEW_CHARS
from webapp.review.queue import review_queue_rebuild

pytestmark = pytest.mark.django_db

LENGTH = 200_000
PROMPT = ("Say <b>“naïve” & 日本</b> " * LENGTH)[:LENGTH]
ANSWER = ("A <i>&amp; résumé</i> 🎉 " * LENGTH)[:LENGTH]
# whatever the page, far below one long text (a page of 50 pairs with three previews each)
PAGE_BYTES = 150_000


@pytest.fixture
def long_pair(project: Any) -> Any:
    run, pairs = scored_flagged_pairs(project, [-3.0, 0.5])
    pair = pairs[0]
    Prompt.objects.filter(pk=pair.prompt_id).update(text=PROMPT)
    Response.objects.filter(pk=pair.response_a_id).update(text=ANSWER)
    Flag.objects.create(
        project=project, pair=pair, kind=Flag.Kind.NEAR_IDENTICAL, source="checks", severity=3
    )
    review_queue_rebuild(project=project)
    gold_set(pair=pair, choice="a")
    HumanLabel.objects.create(
        pair=pair, project=project, label="a", confidence=1.0, source="majority", n_votes=3,
        majority_label="a", majority_share=1.0, computed_at=timezone.now(),
    )  # fmt: skip
    pair.run = run
    return pair


def _shows_previews(body: str, *texts: str) -> None:
    assert len(body.encode()) < PAGE_BYTES
    for text in texts:
        assert escape(text[:PREVIEW_CHARS]) + "…" in body
        assert escape(text[: PREVIEW_CHARS + 1]) not in body
    assert f"{LENGTH:,} characters" in body


def test_every_list_page_sends_previews(admin_client: Any, project: Any, long_pair: Any) -> None:
    p = project.pk
    pages = {
        f"/projects/{p}/": (PROMPT, ANSWER),
        f"/scoring/runs/{long_pair.run.pk}/": (PROMPT, ANSWER),
        f"/projects/{p}/checks/": (PROMPT, ANSWER),
        f"/projects/{p}/review/": (PROMPT,),
        f"/projects/{p}/gold/": (PROMPT,),
        f"/projects/{p}/agreement/": (PROMPT,),
    }
    for url, texts in pages.items():
        response = admin_client.get(url)
        assert response.status_code == 200, url
        _shows_previews(response.content.decode(), *texts)


def test_the_api_pair_list_sends_previews_and_one_pair_whole(
    project: Any, admin_user: Any, long_pair: Any
) -> None:
    api = client_for(admin_user)
    listed = api.get(f"/api/projects/{project.pk}/pairs/")
    assert len(listed.content) < PAGE_BYTES
    row = next(r for r in listed.json()["results"] if r["id"] == long_pair.pk)
    assert (row["prompt"], row["prompt_length"]) == (PROMPT[:PREVIEW_CHARS], LENGTH)
    assert (row["response_a"], row["response_a_length"]) == (ANSWER[:PREVIEW_CHARS], LENGTH)
    assert row["response_b_length"] == len(row["response_b"]) and "conversation" not in row
    whole = api.get(f"/api/projects/{project.pk}/pairs/{long_pair.pk}/").json()
    assert (whole["prompt"], whole["response_a"]) == (PROMPT, ANSWER)


def test_a_pairs_own_pages_send_the_whole_text_folded(
    admin_client: Any, project: Any, long_pair: Any
) -> None:
    for url in (
        f"/projects/{project.pk}/pairs/{long_pair.pk}/",
        f"/projects/{project.pk}/review/pairs/{long_pair.pk}/",
    ):
        body = admin_client.get(url).content.decode()
        for text in (PROMPT, ANSWER):
            head, rest = escape(text[:FOLD_CHARS]), escape(text[FOLD_CHARS:])
            assert f'<div class="text">{head}</div><details class="rest">' in body, url
            assert f"{LENGTH - FOLD_CHARS:,} characters more: show them" in body
            assert f'<div class="text">{rest}</div></details>' in body
