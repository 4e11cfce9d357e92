"""Reads of export snapshots: a project's snapshots, one snapshot behind its access check, and
the file names a snapshot gives its splits."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet

from webapp.exports.models import ExportSnapshot
from webapp.projects.models import Membership, Project
from webapp.projects.selectors import project_for_user

SAFE_SPLIT = re.compile(r"[^A-Za-z0-9_]+")


def split_file_stem(split: str, taken: set[str]) -> str:
    """A file (and Hugging Face split) name for a split: word characters only, unique."""
    stem = SAFE_SPLIT.sub("_", split).strip("_")[:60] or "split"
    if stem[0].isdigit():
        stem = f"split_{stem}"
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}_{n}", n + 1
    taken.add(candidate)
    return candidate


def snapshots_for_project(*, project: Project) -> QuerySet[ExportSnapshot]:
    return (
        ExportSnapshot.objects.filter(project=project)
        .select_related("created_by", "job")
        .order_by("-version")
    )


def snapshot_for_user(
    *, user: Any, snapshot_id: int, min_role: str = Membership.Role.REVIEWER
) -> tuple[ExportSnapshot, str]:
    """The snapshot and the user's role in its project, or 404. Exports hold every label, so
    annotators never see them."""
    from django.http import Http404

    snapshot = (
        ExportSnapshot.objects.filter(pk=snapshot_id)
        .select_related("project", "created_by", "job")
        .first()
    )
    if snapshot is None:
        raise Http404("No such export")
    _, role = project_for_user(user=user, project_id=snapshot.project_id, min_role=min_role)
    return snapshot, role
