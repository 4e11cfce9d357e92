"""A flag's details on the review pair page are named, rounded figures (mu, sigma, the partner
pair linked, the similarity), never the stored mapping with its full floats."""

from __future__ import annotations

from typing import Any

import pytest

from tests.review.helpers import reviewer, scored_flagged_pairs
from webapp.flags.details import details_shown
from webapp.flags.models import Flag

pytestmark = pytest.mark.django_db


def test_the_review_pair_page_names_and_rounds_each_figure(client: Any, project: Any) -> None:
    _, pairs = scored_flagged_pairs(project, [-3.0, 1.0])
    flagged, partner = pairs
    Flag.objects.filter(pair=flagged).update(
        details={"mu": -0.8843011856079102, "sigma": 0.12034000158309937}
    )
    Flag.objects.create(
        project=project, pair=flagged, kind=Flag.Kind.CONTRAST_INCONSISTENT, source="checks",
        severity=2,
        details={"check": "contrast", "partner_pair": partner.pk,
                 "similarity": 0.8123456, "own": 0.25, "other_response": 1.123456,
                 "other_prompt": -0.5},
    )  # fmt: skip
    client.force_login(reviewer(project))
    body = client.get(f"/projects/{project.pk}/review/pairs/{flagged.pk}/").content.decode()
    table = body[body.index('id="flags"') : body.index("</table>", body.index('id="flags"'))]
    assert "mu <b>-0.884</b>" in table and "sigma <b>0.120</b>" in table
    assert f'/projects/{project.pk}/pairs/{partner.pk}/">#{partner.pk}</a>' in table
    assert "similarity <b>0.81</b>" in table
    assert "reward of the similar prompt&#x27;s answer <b>1.123</b>" in table
    for raw in ("{", "&#x27;mu&#x27;", "0.8843011856079102", "&#x27;check&#x27;", "0.8123"):
        assert raw not in table


def test_unknown_details_are_named_by_their_key_and_long_values_cut() -> None:
    shown = details_shown({"z_score": 2.34567, "n": 3, "note": "x" * 500, "check": "cycle"})
    assert [(d.name, d.value) for d in shown[:2]] == [("z score", "2.346"), ("n", "3")]
    assert shown[2].name == "note" and len(shown[2].value) == 120
    assert details_shown({}) == [] and details_shown(None) == []
