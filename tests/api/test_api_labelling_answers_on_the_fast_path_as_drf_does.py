"""The API's next pair and vote, answered on the labelling page's path (plain views, prepared
SQL) for a token and a JSON body, say exactly what the DRF views say for the same requests
(made here with a session login, which the DRF views answer), errors included; every other
request (a form, a body with a string for a number) still gets the DRF views' answer."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.api.conftest import client_for
from tests.exports.helpers import make_pairs
from tests.factories import MembershipFactory, UserFactory

HEADERS = ("Content-Type", "Allow")
ORM_TOKEN_LOOKUP = '"authtoken_token"."key"'  # DRF's TokenAuthentication's query


def _session_client(project: Any, name: str) -> APIClient:
    user = UserFactory(username=name)
    MembershipFactory(project=project, user=user, role="annotator")
    client = APIClient()
    client.force_login(user)
    return client


def _same(fast: Any, drf: Any) -> None:
    assert fast.status_code == drf.status_code, (fast.content, drf.content)
    assert [fast.get(h) for h in HEADERS] == [drf.get(h) for h in HEADERS]


def _orm_token_lookups(queries: Any) -> int:
    return sum(ORM_TOKEN_LOOKUP in (q["sql"] or "") for q in queries)


def test_the_fast_path_answers_as_the_drf_views_do(project: Any, annotator: Any) -> None:
    make_pairs(project, 6, conversations=True)
    fast, drf = client_for(annotator), _session_client(project, "sally")
    base = f"/api/projects/{project.pk}"
    with CaptureQueriesContext(connection) as queries:
        served = {"fast": fast.post(f"{base}/assignments/next/")}
    # the token's lookup is prepared SQL, not DRF's ORM query
    assert _orm_token_lookups(queries) == 0
    served["drf"] = drf.post(f"{base}/assignments/next/")
    _same(served["fast"], served["drf"])
    leases = {k: v.json() for k, v in served.items()}
    assert list(leases["fast"]) == list(leases["drf"])
    again = fast.post(f"{base}/assignments/next/")
    assert again.content == served["fast"].content  # the lease held is served again

    def both(body_of: Any) -> dict[str, Any]:
        answers = {}
        for name, client in (("fast", fast), ("drf", drf)):
            body = body_of(leases[name])
            answers[name] = client.post(f"{base}/votes/", body, format="json")
        _same(answers["fast"], answers["drf"])
        return answers

    def lease_of(lease: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {"token": lease["token"], "round": lease["round"], **fields}

    for refused in (
        {"choice": "left"},  # no strength where it is required
        {"choice": "left", "strength": 3},  # past the scale of three levels
        {"choice": "left", "strength": 9},  # past any scale: the serializer's own error
        {"choice": "sideways"},
        {"choice": "tie", "round": "zero"},
    ):
        answers = both(lambda lease, refused=refused: {**lease_of(lease), **refused})
        assert answers["fast"].status_code == 400
        assert answers["fast"].content == answers["drf"].content, refused
    stranger = both(lambda lease: {"token": "6f1c1f7e-0000-4000-8000-000000000000",
                                   "round": 0, "choice": "tie"})  # fmt: skip
    assert stranger["fast"].status_code == 404
    assert stranger["fast"].content == stranger["drf"].content
    stored = both(lambda lease: lease_of(lease, choice="right", strength=2, time_ms=1500,
                                         rationale="  clearer  "))  # fmt: skip
    assert {k: v.json()["status"] for k, v in stored.items()} == {"fast": "stored", "drf": "stored"}
    retry = both(lambda lease: lease_of(lease, choice="right", strength=2))
    assert [r.json()["status"] for r in retry.values()] == ["duplicate", "duplicate"]
    stale = both(lambda lease: {**lease_of(lease, choice="tie"), "round": 1})
    assert stale["fast"].content == stale["drf"].content and stale["fast"].status_code == 409


def test_other_requests_still_get_the_drf_answers(project: Any, annotator: Any) -> None:
    make_pairs(project, 3, conversations=False)
    client = client_for(annotator)
    base = f"/api/projects/{project.pk}"
    lease = client.post(f"{base}/assignments/next/").json()
    with CaptureQueriesContext(connection) as queries:
        form = client.post(
            f"{base}/votes/", {"token": lease["token"], "round": "0", "choice": "tie"}
        )  # multipart, as forms are
    assert form.status_code == 201
    assert _orm_token_lookups(queries) == 1  # the DRF view answered
    bad_json = client.post(f"{base}/votes/", "{not json", content_type="application/json")
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "parse_error"
    assert client.get(f"{base}/votes/").status_code == 405
    assert APIClient().post(f"{base}/assignments/next/").status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token not-a-key")
    assert wrong.post(f"{base}/assignments/next/").json()["error"]["message"] == "Invalid token."
    assert client.post("/api/projects/999999/assignments/next/").status_code == 404


def test_a_database_outage_on_the_fast_path_is_the_apis_503(rf: Any) -> None:
    from django.db import OperationalError
    from rest_framework.decorators import api_view
    from rest_framework.response import Response

    from webapp.api.fast import answer_first

    def unreachable(request: Any) -> None:
        raise OperationalError("connection refused")

    @answer_first(unreachable)
    @api_view(["POST"])
    def drf_view(request: Any) -> Response:
        return Response({"drf": True})

    answer = drf_view(rf.post("/", data="{}", content_type="application/json"))
    assert answer.status_code == 503 and answer["Retry-After"] == "2"
    assert set(answer["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert b'"code":"unavailable"' in answer.content
    assert drf_view(rf.get("/")).status_code == 401  # a GET is for DRF to answer
