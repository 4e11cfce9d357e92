"""Scores and flags through the API: reviewers and admins page through a run's per-pair scores
and the project's flags (filtered by kind and run); annotators, who label blind, and strangers
get 404s; only admins start a scoring run; bad filters are JSON 400s."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import client_for
from tests.exports.helpers import add_scores, make_pairs
from webapp.flags.models import Flag
from webapp.scoring.models import PairScore, ScoringRun


@pytest.fixture
def scored(project: Any) -> Any:
    made = make_pairs(project, 12)
    run = add_scores(project, made, flag_ids=(made.pairs[1].pk, made.pairs[4].pk))
    Flag.objects.create(project=project, pair=made.pairs[2], kind="degenerate", source="checks")
    return made, run


def _all_pages(client: Any, url: str) -> list[dict[str, Any]]:
    results, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        results += body["results"]
        url, pages = body["next"], pages + 1
    assert pages > 1  # the cursor was followed
    return results


def test_a_reviewer_pages_through_a_runs_scores(project: Any, scored: Any, reviewer: Any) -> None:
    _, run = scored
    client = client_for(reviewer)
    runs = client.get(f"/api/projects/{project.pk}/scoring-runs/").json()
    assert [r["id"] for r in runs] == [run.pk]
    assert client.get(f"/api/scoring-runs/{run.pk}/").json()["complete"] is True
    scores = _all_pages(client, f"/api/scoring-runs/{run.pk}/scores/?page_size=3")
    stored = PairScore.objects.filter(run=run).order_by("pair_id")
    assert [s["pair"] for s in scores] == [s.pair_id for s in stored]
    first = stored[0]
    assert scores[0] == {
        "pair": first.pair_id,
        "label_scored": first.label_scored,
        "label_source": first.label_source,
        "mu": first.mu,
        "sigma": first.sigma,
        "p_label": first.p_label,
        "margins": first.margins,
        "decile": first.decile,
    }
    PairScore.objects.filter(pk=first.pk).update(decile=7)
    only = client.get(f"/api/scoring-runs/{run.pk}/scores/?decile=7").json()["results"]
    assert [s["pair"] for s in only] == [first.pair_id]


def test_flags_filter_by_kind_and_run(project: Any, scored: Any, api_admin: Any) -> None:
    made, run = scored
    url = f"/api/projects/{project.pk}/flags/"
    every = _all_pages(api_admin, f"{url}?page_size=2")
    assert len(every) == Flag.objects.filter(project=project).count() == 5
    ambiguous = api_admin.get(f"{url}?kind=ambiguous").json()["results"]
    assert sorted(f["pair"] for f in ambiguous) == sorted([made.pairs[1].pk, made.pairs[4].pk])
    assert {f["scoring_run"] for f in ambiguous} == {run.pk}
    of_run = api_admin.get(f"{url}?run={run.pk}").json()["results"]
    assert len(of_run) == 4
    no_run = api_admin.get(f"{url}?run=none").json()["results"]
    assert [(f["pair"], f["kind"]) for f in no_run] == [(made.pairs[2].pk, "degenerate")]
    of_pair = api_admin.get(f"{url}?pair={made.pairs[4].pk}").json()["results"]
    assert {f["kind"] for f in of_pair} == {"ambiguous", "likely_mislabelled"}
    bad = api_admin.get(f"{url}?run=latest")
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["run"]
    assert api_admin.get(f"/api/scoring-runs/{run.pk}/scores/?decile=12").status_code == 400


def test_annotators_and_strangers_see_no_scores_or_flags(
    project: Any, scored: Any, annotator: Any, other_project: Any
) -> None:
    _, run = scored
    paths = [
        f"/api/projects/{project.pk}/scoring-runs/",
        f"/api/scoring-runs/{run.pk}/",
        f"/api/scoring-runs/{run.pk}/scores/",
        f"/api/projects/{project.pk}/flags/",
    ]
    stranger = client_for(other_project.memberships.get().user)
    for client in (client_for(annotator), stranger):
        for path in paths:
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "not_found"
    anonymous = client_for(annotator)
    anonymous.credentials()
    assert anonymous.get(paths[2]).status_code == 401


def test_only_admins_start_a_scoring_run(
    project: Any, scored: Any, reviewer: Any, api_admin: Any
) -> None:
    url = f"/api/projects/{project.pk}/scoring-runs/"
    body = {"mode": "oof", "n_models": 2, "n_folds": 2}
    assert client_for(reviewer).post(url, body, format="json").status_code == 404
    assert ScoringRun.objects.filter(project=project).count() == 1
    response = api_admin.post(url, body, format="json")
    assert response.status_code == 202, response.content
    started = response.json()
    run = ScoringRun.objects.get(pk=started["scoring_run"]["id"])
    assert run.job is not None and started["job"]["id"] == run.job.pk
    assert started["job"]["kind"] == "score" and started["job"]["status"] == "queued"
    assert run.config["options"]["n_models"] == 2
    wrong = api_admin.post(url, {"mode": "guess"}, format="json")
    assert wrong.status_code == 400 and "mode" in wrong.json()["error"]["fields"]
