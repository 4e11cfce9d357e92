"""The API's flag precision (per kind of a run, with its interval) and the noise model's
P(wrong) per pair, for reviewers; annotators get a 404, a run of another project too."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import client_for
from tests.labelling.helpers import annotator
from tests.review.helpers import reviewer, scored_flagged_pairs
from webapp.review.decisions import review_decide
from webapp.review.learning import noise_fit_create, noise_fit_execute

pytestmark = pytest.mark.django_db


def test_precision_and_p_wrong_over_the_api(project: Any) -> None:
    run, pairs = scored_flagged_pairs(project, [-3.0, -2.0, -1.0, 0.5])
    rita = reviewer(project)
    review_decide(project=project, pair_id=pairs[0].pk, action="flip", reviewer=rita)
    review_decide(project=project, pair_id=pairs[1].pk, action="keep", reviewer=rita)
    noise_fit_execute(run=noise_fit_create(project=project, job=False), progress=print)
    api = client_for(rita)
    base = f"/api/projects/{project.pk}"

    body = api.get(f"{base}/flags/precision/").json()
    assert body["run"] == run.pk
    kinds = {k["kind"]: k for k in body["kinds"]}
    mislabelled = kinds["likely_mislabelled"]
    assert (mislabelled["flagged"], mislabelled["answered"], mislabelled["confirmed"]) == (3, 2, 1)
    assert mislabelled["precision"] == 0.5 and 0 < mislabelled["low"] < 0.5 < mislabelled["high"]
    assert kinds["ambiguous"]["answered"] == 0 and kinds["ambiguous"]["precision"] is None
    assert api.get(f"{base}/flags/precision/?run={run.pk + 999}").status_code == 404
    assert api.get(f"{base}/flags/precision/?run=x").status_code == 400

    page = api.get(f"{base}/noise/?page_size=3").json()
    assert [r["pair"] for r in page["results"]] == [p.pk for p in pairs[:3]]
    assert page["next"]
    # with two answers there is no model yet: the prior, 1 - sigmoid(mu)
    assert page["results"][0]["p_wrong"] == pytest.approx(1 / (1 + 2.718281828**-3.0), abs=1e-4)
    assert page["results"][0]["why"][0][0] == "prior_logit"

    blind = client_for(annotator(project, "ann"))
    assert blind.get(f"{base}/flags/precision/").status_code == 404
    assert blind.get(f"{base}/noise/").status_code == 404
