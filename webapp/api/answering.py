"""What the item and step endpoints share: leasing the next item to an annotator, and storing
an answer on a lease with the API's answers to a retry, a stale lease and a bad payload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.errors import error_body
from webapp.api.serializers.items import AnswerResultSerializer
from webapp.labelling import leases, queue
from webapp.labelling import selectors as labelling_selectors
from webapp.labelling.item_answers import item_answer_submit
from webapp.labelling.models import Assignment
from webapp.labelling.services import LabellingError
from webapp.projects.models import Project


def item_lease_id(*, request: Request, project: Project) -> int | None:
    """The caller's live item lease in the project, else a newly leased item; None when no
    item is open for them."""
    leases.leases_reclaim_if_due(project=project)
    assignment_id = labelling_selectors.assignment_live_id(project=project, annotator=request.user)
    if assignment_id is None:
        assignment_id = queue.assignment_next(project=project, annotator=request.user)
    return assignment_id


def answer_stored(
    *,
    request: Request,
    project: Project,
    data: dict[str, Any],
    payload: Any,
    field_of: Callable[[str], str] = lambda field: field,
) -> Response:
    """Store ``payload`` as the answer on the lease ``data`` names (token, round, time_ms):
    201 stored, 200 for a retry, 409 for an undone or no longer needed lease, 404 for
    someone else's, 400 naming the bad field (as ``field_of`` calls the service's field)."""
    try:
        result = item_answer_submit(
            project=project,
            annotator=request.user,
            token=data["token"],
            round=data["round"],
            payload=payload,
            time_taken_ms=data.get("time_ms"),
        )
    except LabellingError as exc:
        field = field_of(exc.field)
        return Response(error_body(400, "invalid", f"{field}: {exc}", {field: [str(exc)]}), 400)
    except Assignment.DoesNotExist:
        raise NotFound("No such assignment") from None
    if result.status in ("stale", "not_needed"):
        message = (
            "This lease was undone or skipped since: fetch the item again."
            if result.status == "stale"
            else "Your lease expired and the item has all the answers it wants."
        )
        return Response(error_body(409, result.status, message), status=409)
    body = AnswerResultSerializer({"status": result.status, "answer": result.vote_id}).data
    return Response(body, status=201 if result.status == "stored" else 200)
