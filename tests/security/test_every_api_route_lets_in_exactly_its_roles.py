"""Every API route, for every kind of visitor: who gets in and who is turned away (how, and
who the visitors are: tests/security/route_access.py). Annotators reach the labelling, item
and step endpoints; what shows labels, scores or flags needs a reviewer."""

from __future__ import annotations

import pytest

from tests.security.route_access import (
    Rule,
    World,
    answer_of,
    benchmark_args,
    judge_args,
    lease_of,
    pair_args,
    project,
    step_lease_of,
    steps_project,
    unruled,
    wrong_answers,
)

MATRIX: dict[str, Rule] = {
    "api:schema": Rule("public"),  # the OpenAPI description; no data
    "api:docs": Rule("public"),  # what the API offers; no data
    "api:token": Rule("public", ("POST",)),
    "api:projects": Rule("user"),
    "api:project": Rule("annotator", args=project),
    "api:pairs": Rule("reviewer", args=project),
    "api:pair": Rule("reviewer", args=pair_args),
    "api:import-create": Rule("admin", ("POST",), args=project),
    "api:import": Rule("admin", args=lambda w: {"batch_id": w.batch.pk}),
    "api:next": Rule("annotator", ("POST",), args=project),
    "api:items": Rule("reviewer", args=project),
    "api:item": Rule("reviewer", args=lambda w: {"project_id": w.project.pk, "item_id": w.item.pk}),
    "api:item-next": Rule("annotator", ("POST",), args=project),
    "api:answers": Rule("annotator", ("POST",), args=project, data=answer_of),
    "api:step-next": Rule("annotator", ("POST",), args=steps_project),
    # first-error mode: every step right
    "api:step-answers": Rule(
        "annotator",
        ("POST",),
        args=steps_project,
        data=lambda w, v: {**step_lease_of(w, v), "first_error": -1},
    ),
    "api:skip": Rule("annotator", ("POST",), args=project, data=lease_of),
    "api:votes": Rule("annotator", ("POST",), args=project, data=lease_of),
    "api:jobs": Rule("admin", args=project),  # as the project page: admins see its jobs
    "api:job": Rule("reviewer", args=lambda w: {"job_id": w.job.pk}),
    "api:job-cancel": Rule("admin", ("POST",), args=lambda w: {"job_id": w.job.pk}),
    "api:exports": Rule("reviewer", ("GET", "POST"), args=project),
    "api:export": Rule("reviewer", args=lambda w: {"snapshot_id": w.snapshot.pk}),
    "api:download": Rule(
        "reviewer", args=lambda w: {"snapshot_id": w.snapshot.pk, "name": "README.md"}
    ),
    # the API's catch-all: an unknown API path is a JSON 404 for everyone
    "api:<catch-all>": Rule("nobody"),
    "api:scoring-runs": Rule("reviewer", ("GET", "POST"), args=project),
    "api:scoring-run": Rule("reviewer", args=lambda w: {"run_id": w.run.pk}),
    "api:scores": Rule("reviewer", args=lambda w: {"run_id": w.run.pk}),
    "api:flags": Rule("reviewer", args=project),
    "api:flag-precision": Rule("reviewer", args=project),
    "api:noise": Rule("reviewer", args=project),
    "api:training-runs": Rule("reviewer", ("GET", "POST"), args=project),
    "api:training-run": Rule("reviewer", args=lambda w: {"run_id": w.training.pk}),
    "api:review-decisions": Rule("reviewer", ("GET", "POST"), args=project),
    "api:pair-review-decisions": Rule("reviewer", args=pair_args),
    "api:review-bulk": Rule("reviewer", ("POST",), args=project),
    "api:judges": Rule(
        "reviewer",
        ("GET", "POST"),
        args=project,
        data=lambda w, v: {"name": f"api-{v}", "source_kind": "verdicts"},
    ),
    "api:judge-report": Rule("reviewer", args=project),
    "api:judge-verdicts": Rule("admin", ("POST",), args=judge_args),
    "api:judge-run": Rule("admin", ("POST",), args=judge_args),
    "api:judge-fill-in": Rule(
        "admin", ("POST",), args=judge_args, data=lambda w, v: {"on": "true"}
    ),
    "api:benchmarks": Rule("user", ("GET", "POST")),
    "api:leaderboard": Rule("reviewer", args=benchmark_args),
    "api:evaluations": Rule(
        "reviewer",
        ("GET", "POST"),
        args=benchmark_args,
        data=lambda w, v: {"contenders": "always_a"},
    ),
    "api:evaluation": Rule("reviewer", args=lambda w: {"evaluation_id": w.evaluation.pk}),
}

# Methods that may only be answered by admins even where reading is open to reviewers.
WRITE_LEAST = {
    name: {"POST": "admin"}
    for name in (
        "api:exports",
        "api:scoring-runs",
        "api:training-runs",
        "api:judges",
        "api:evaluations",
    )
}


def test_every_api_route_has_an_entry() -> None:
    missing, stale = unruled(MATRIX, lambda name: name.startswith("api:"))
    assert not missing, f"API routes without an authorization rule: {missing}"
    assert not stale, f"rules for API routes that no longer exist: {stale}"


@pytest.mark.django_db
def test_each_api_route_lets_in_exactly_its_roles(world: World) -> None:
    wrong = wrong_answers(world, MATRIX, WRITE_LEAST)
    assert not wrong, "\n".join(wrong)
