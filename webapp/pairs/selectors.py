from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet

from webapp.pairs.models import Pair, Prompt, Response
from webapp.pairs.previews import with_previews
from webapp.projects.models import Project


def pairs_page(
    *, project: Project, after_id: int = 0, split: str = "", limit: int = 50
) -> list[Pair]:
    """One page of a project's pairs in id order (keyset pagination: fast on any page), each
    with ``.preview`` of its texts (webapp/pairs/previews.py), never the texts themselves."""
    qs: QuerySet[Pair] = Pair.objects.filter(project=project, id__gt=after_id)
    if split:
        qs = qs.filter(split=split)
    return with_previews(list(qs.order_by("id")[:limit]), key="pk")


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


@dataclass
class PairTexts:
    """Every pair of a project with its texts, in pair id order, as parallel lists. A prompt
    is its conversation (a list of messages) where it has one, else its text."""

    ids: list[int] = field(default_factory=list)
    prompt_ids: list[int] = field(default_factory=list)
    prompts: list[Any] = field(default_factory=list)
    a_ids: list[int] = field(default_factory=list)
    b_ids: list[int] = field(default_factory=list)
    a_text: list[str] = field(default_factory=list)
    b_text: list[str] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    prompt_hash: list[bytes] = field(default_factory=list)
    a_hash: list[bytes] = field(default_factory=list)
    b_hash: list[bytes] = field(default_factory=list)


def pair_texts(*, project: Project) -> PairTexts:
    """The project's pairs and their texts, in one query (what scoring, training and the checks
    read). Pairs derived from items about one attribute are left out: they are per-attribute
    preferences (exports carry them), and one reward, or a cycle, mixing attributes would
    mean nothing; a derived overall pair is read as any pair."""
    out = PairTexts()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.id, p.prompt_id, pr.text, pr.conversation, p.response_a_id,
                   p.response_b_id, ra.text, rb.text, p.metadata,
                   pr.content_hash, ra.content_hash, rb.content_hash
            FROM {Pair._meta.db_table} p
            JOIN {Prompt._meta.db_table} pr ON pr.id = p.prompt_id
            JOIN {Response._meta.db_table} ra ON ra.id = p.response_a_id
            JOIN {Response._meta.db_table} rb ON rb.id = p.response_b_id
            WHERE p.project_id = %s AND p.attribute = '' ORDER BY p.id
            """,
            [project.pk],
        )
        for row in cursor.fetchall():
            pair_id, prompt_id, text, conversation, a_id, b_id, a, b, meta, ph, ah, bh = row
            out.ids.append(pair_id)
            out.prompt_ids.append(prompt_id)
            out.prompts.append(conversation if conversation is not None else text)
            out.a_ids.append(a_id)
            out.b_ids.append(b_id)
            out.a_text.append(a)
            out.b_text.append(b)
            out.metadata.append(meta if isinstance(meta, dict) else {})
            out.prompt_hash.append(bytes(ph))
            out.a_hash.append(bytes(ah))
            out.b_hash.append(bytes(bh))
    return out
