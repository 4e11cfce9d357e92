from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from webapp.pairs.models import Pair
from webapp.projects.models import Project


def pairs_page(
    *, project: Project, after_id: int = 0, split: str = "", limit: int = 50
) -> list[Pair]:
    """One page of a project's pairs in id order (keyset pagination: fast on any page)."""
    qs: QuerySet[Pair] = Pair.objects.filter(project=project, id__gt=after_id)
    if split:
        qs = qs.filter(split=split)
    return list(qs.select_related("prompt", "response_a", "response_b").order_by("id")[:limit])


def pair_counts(*, project: Project) -> dict[str, Any]:
    rows = (
        Pair.objects.filter(project=project)
        .values("split", "imported_label")
        .annotate(n=Count("id"))
        .order_by("split", "imported_label")
    )
    by_split: dict[str, int] = {}
    by_label: dict[str, int] = {}
    for row in rows:
        by_split[row["split"]] = by_split.get(row["split"], 0) + row["n"]
        label = row["imported_label"] or "none"
        by_label[label] = by_label.get(label, 0) + row["n"]
    return {"total": sum(by_split.values()), "by_split": by_split, "by_label": by_label}


def pair_for_project(*, project: Project, pair_id: int) -> Pair | None:
    return (
        Pair.objects.filter(project=project, pk=pair_id)
        .select_related("prompt", "response_a", "response_b", "import_batch")
        .first()
    )
