"""Reads of flags."""

from __future__ import annotations

from django.db.models import QuerySet

from webapp.flags.models import Flag
from webapp.projects.models import Project


def flags_for_project(
    *,
    project: Project,
    kind: str | None = None,
    scoring_run_id: int | None = None,
    without_run: bool = False,
    pair_id: int | None = None,
    item_id: int | None = None,
) -> QuerySet[Flag]:
    """The project's flags, filtered by kind, by the scoring run that raised them (or, with
    ``without_run``, those a check or a person raised, tied to no run), by pair and by item
    (a steps project's solution)."""
    flags = Flag.objects.filter(project=project)
    if kind:
        flags = flags.filter(kind=kind)
    if without_run:
        flags = flags.filter(scoring_run__isnull=True)
    elif scoring_run_id is not None:
        flags = flags.filter(scoring_run_id=scoring_run_id)
    if pair_id is not None:
        flags = flags.filter(pair_id=pair_id)
    if item_id is not None:
        flags = flags.filter(item_id=item_id)
    return flags
