"""A schemathesis run over every operation of the OpenAPI schema, with an admin's token, finds
no server error. Bounded: a few generated requests per operation, no deadline per example."""

from __future__ import annotations

from typing import Any

import schemathesis
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from tests.api.conftest import bounded_cases
from tests.exports.helpers import make_pairs
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write

EXAMPLES_PER_OPERATION = 8


def test_no_operation_answers_with_a_server_error(
    project: Any, admin_user: Any, wsgi_app: Any
) -> None:
    make_pairs(project, 8)
    export_write(
        snapshot=export_create(
            project=project, file_format="jsonl", spec=ExportSpec(), enqueue=False
        )
    )
    headers = {"Authorization": f"Token {Token.objects.create(user=admin_user).key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @bounded_cases(operation, EXAMPLES_PER_OPERATION)
        def call(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        call()
