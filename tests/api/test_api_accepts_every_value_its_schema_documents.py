"""Every request the OpenAPI schema documents as valid is accepted: schemathesis generates
positive data for the projects, labelling and review operations (on a real project, with live
leases in the vote and skip bodies), and its ``positive_data_acceptance`` check fails on any
400 (a documented value that the services refuse, as a strength of 50 once was). Bounded: a
few examples per operation, no deadline per example.

The project is the one the schema's ranges describe in full: a strength scale of the most
levels a project may have, and the strength optional. Narrower settings (fewer levels, a
required strength) are conditions the schema states in words; their own tests check them.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import bounded_cases
from tests.exports.helpers import make_pairs
from webapp.flags.models import Flag
from webapp.labelling import queue
from webapp.labelling.models import Assignment
from webapp.projects.models import MAX_STRENGTH_LEVELS

EXAMPLES_PER_OPERATION = 12
TAGS = {"projects", "labelling", "review"}
LEASED = ("/votes/", "/assignments/skip/")  # bodies that name a lease
DECIDED = "/review/decisions/"  # bodies that name a pair and maybe one of its flags


@pytest.mark.slow
def test_documented_requests_of_projects_labelling_and_review_are_accepted(
    project: Any, admin_user: Any, wsgi_app: Any
) -> None:
    project.strength_scale = [f"level {i}" for i in range(MAX_STRENGTH_LEVELS)]
    project.strength_required = False
    project.votes_per_pair = 1
    project.save()
    made = make_pairs(project, 2 * EXAMPLES_PER_OPERATION + 8)
    ids = {"project_id": project.pk, "pair_id": made.pairs[0].pk}
    reviewed = made.pairs[1]  # imported as "b": every action applies to it
    flag = Flag.objects.create(
        project=project, pair=reviewed, kind=Flag.Kind.AMBIGUOUS, source="scoring"
    )
    headers = {"Authorization": f"Token {Token.objects.create(user=admin_user).key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if TAGS & set(op.tags or [])]
    assert len(operations) >= 8, [op.label for op in operations]

    def lease() -> Assignment:
        assignment_id = queue.assignment_next(project=project, annotator=admin_user)
        assert assignment_id is not None, "the test ran out of pairs to lease"
        return Assignment.objects.get(pk=assignment_id)

    def with_real_objects(case: Any) -> Any:
        """The case, its body naming a live lease, or the reviewed pair and its flag."""
        path = case.operation.path
        if path.endswith(LEASED) and isinstance(case.body, dict):
            held = lease()
            case.body["token"], case.body["round"] = str(held.token), held.round
        if path.endswith(DECIDED) and isinstance(case.body, dict):
            case.body["pair"] = reviewed.pk
            if "flag" in case.body:
                case.body["flag"] = flag.pk
        return case

    for operation in operations:
        fixed = {k: v for k, v in ids.items() if k in operation.path}

        @bounded_cases(operation, EXAMPLES_PER_OPERATION, path_parameters=fixed)
        def call(case: Any) -> None:
            with_real_objects(case).call_and_validate(
                headers=headers, checks=[not_a_server_error, positive_data_acceptance]
            )

        call()
