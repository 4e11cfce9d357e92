"""A project's flags, filtered by kind, scoring run and pair.

Flags, like scores, say which response the ensemble prefers: reviewers and admins only, so an
annotator labels blind (for them this is a 404, like someone else's project).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import cursor_page, project_for_request, validated
from webapp.api.errors import ERRORS
from webapp.api.serializers.flags import FlagFilterSerializer, FlagPageSerializer, FlagSerializer
from webapp.flags.selectors import flags_for_project
from webapp.projects.models import Membership


@extend_schema(
    operation_id="projects_flags_list",
    parameters=[FlagFilterSerializer],
    responses={200: FlagPageSerializer, **ERRORS},
    tags=["flags"],
)
@api_view(["GET"])
def flag_list(request: Request, project_id: int) -> Response:
    """The project's flags in id order, a page at a time (follow ``next``), filtered by kind,
    by the scoring run that raised them (``run=none``: checks and people), by pair and by item
    (a steps project's solutions, flagged by the step model's runs); reviewers and admins."""
    project, _ = project_for_request(request, project_id, Membership.Role.REVIEWER)
    filters = validated(FlagFilterSerializer, request.query_params)
    run = filters.get("run")
    flags = flags_for_project(
        project=project,
        kind=filters.get("kind"),
        scoring_run_id=int(run) if run and run != "none" else None,
        without_run=run == "none",
        pair_id=filters.get("pair"),
        item_id=filters.get("item"),
    )
    return cursor_page(request, flags, FlagSerializer, ordering="id", page_size=100)
