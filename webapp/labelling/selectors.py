"""Reads for labelling: what an annotator holds, progress, gold accuracy, aggregated labels."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Model, Q, QuerySet
from django.utils import timezone

from webapp.dbbackend import prepared
from webapp.labelling.models import (
    AgreementReport,
    Assignment,
    GoldAnswer,
    HumanLabel,
    ItemQueueItem,
    QueueItem,
    Vote,
)
from webapp.pairs.models import Pair, Prompt, Response
from webapp.pairs.previews import with_previews
from webapp.projects.models import Membership, Project
from webapp.projects.schemes import labels_items

PAIRS = Pair._meta.db_table
PROMPTS = Prompt._meta.db_table
RESPONSES = Response._meta.db_table
USERS = get_user_model()._meta.db_table

# Project-wide totals read the whole queue (a million rows, ~0.1 s): cached this long.
PROGRESS_CACHE_S = 15


def _with_pair(qs: QuerySet[Assignment]) -> QuerySet[Assignment]:
    return qs.select_related("pair__prompt", "pair__response_a", "pair__response_b")


# The columns assignment_to_show loads, per model, in the order its query selects them.
_SHOW_FIELDS: tuple[tuple[type[Model], str, tuple[str, ...]], ...] = (
    (Assignment, "a", ("id", "project_id", "pair_id", "annotator_id", "token", "round", "state",
                       "shown_order", "served_at", "expires_at", "finished_at")),
    (Pair, "p", ("id", "project_id", "prompt_id", "response_a_id", "response_b_id")),
    (Prompt, "pr", ("id", "text", "conversation")),
    (Response, "ra", ("id", "text")),
    (Response, "rb", ("id", "text")),
)  # fmt: skip
_SHOW_SQL = f"""
    SELECT {", ".join(f"{alias}.{name}" for _, alias, names in _SHOW_FIELDS for name in names)}
    FROM labelling_assignment a
    JOIN {PAIRS} p ON p.id = a.pair_id
    JOIN {PROMPTS} pr ON pr.id = p.prompt_id
    JOIN {RESPONSES} ra ON ra.id = p.response_a_id
    JOIN {RESPONSES} rb ON rb.id = p.response_b_id
    WHERE a.id = %s
"""


def assignment_to_show(*, assignment_id: int) -> Assignment:
    """An assignment with everything its page fragment shows (its pair, the prompt and both
    responses loaded; their other columns deferred), in one query.

    Every labelling request shows a pair: written in SQL and prepared, it skips the ORM's
    query compiler and PostgreSQL's planner, which cost more CPU than the query itself.
    Raises Assignment.DoesNotExist."""
    with prepared.cursor() as cursor:
        cursor.execute(_SHOW_SQL, [assignment_id])
        row = cursor.fetchone()
    if row is None:
        raise Assignment.DoesNotExist(f"no assignment {assignment_id}")
    objects: list[Any] = []
    at = 0
    for model, _, names in _SHOW_FIELDS:
        values = list(row[at : at + len(names)])
        at += len(names)
        if model is Prompt and isinstance(values[2], str):
            values[2] = json.loads(values[2])  # jsonb comes as text; the ORM would decode it
        objects.append(model.from_db(connection.alias, list(names), values))
    assignment, pair, prompt, response_a, response_b = objects
    pair.prompt, pair.response_a, pair.response_b = prompt, response_a, response_b
    assignment.pair = pair
    return assignment


def assignments_live(
    *, project: Project, annotator: Any, limit: int, now: datetime | None = None
) -> list[Assignment]:
    """The annotator's unexpired leases in the project, oldest first: a reloaded page shows
    these again instead of leasing new pairs."""
    now = now or timezone.now()
    qs = Assignment.objects.filter(
        project=project,
        annotator=annotator,
        state=Assignment.State.LEASED,
        expires_at__gt=now,
    ).order_by("served_at")
    return list(_with_pair(qs)[:limit])


_LIVE_SQL = f"""
    SELECT id FROM {Assignment._meta.db_table}
    WHERE project_id = %s AND annotator_id = %s AND state = 'leased' AND expires_at > %s
    ORDER BY served_at LIMIT 1
"""


def assignment_live_id(
    *, project: Project, annotator: Any, now: datetime | None = None
) -> int | None:
    """The id of the annotator's oldest unexpired lease in the project, if they hold one: what
    the API serves again before leasing a new pair. Prepared SQL, as every labelling request
    runs it."""
    with prepared.cursor() as cursor:
        cursor.execute(_LIVE_SQL, [project.pk, annotator.pk, now or timezone.now()])
        row = cursor.fetchone()
    return int(row[0]) if row else None


def assignment_counts(*, annotator: Any) -> dict[int, dict[str, int]]:
    """Per project: the annotator's votes, skips and pairs held now."""
    rows = (
        Assignment.objects.filter(annotator=annotator)
        .values("project_id")
        .annotate(
            voted=Count("id", filter=Q(state=Assignment.State.VOTED)),
            skipped=Count("id", filter=Q(state=Assignment.State.SKIPPED)),
            held=Count("id", filter=Q(state=Assignment.State.LEASED)),
        )
        .order_by()
    )
    return {
        r["project_id"]: {"voted": r["voted"], "skipped": r["skipped"], "held": r["held"]}
        for r in rows
    }


def roles_of(*, user: Any) -> dict[int, str]:
    return dict(Membership.objects.filter(user=user).values_list("project_id", "role"))


def annotator_votes_count(*, project: Project, annotator: Any) -> int:
    """Votes the annotator cast here through the labelling page."""
    return Assignment.objects.filter(
        project=project, annotator=annotator, state=Assignment.State.VOTED
    ).count()


@dataclass(frozen=True)
class ProjectProgress:
    votes: int  # votes counted toward pairs' wants (extra votes on a pair do not count twice)
    wanted: int
    pairs: int
    pairs_done: int

    @property
    def percent(self) -> float:
        return 100.0 * self.votes / self.wanted if self.wanted else 100.0


def project_progress(*, project: Project, fresh: bool = False) -> ProjectProgress:
    """Votes cast against votes wanted, over all of the project's pairs (cached briefly); in a
    project that labels items, answers against answers wanted over its items."""
    key = f"labelling:progress:{project.pk}"
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return ProjectProgress(*cached)
    table = (ItemQueueItem if labels_items(project) else QueueItem)._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT coalesce(sum(least(votes, wanted)), 0), coalesce(sum(wanted), 0), count(*),
                count(*) FILTER (WHERE votes >= wanted)
            FROM {table}
            WHERE project_id = %s
            """,
            [project.pk],
        )
        row = cursor.fetchone()
    values = tuple(int(v) for v in row) if row else (0, 0, 0, 0)
    cache.set(key, values, timeout=PROGRESS_CACHE_S)
    return ProjectProgress(*values)


def annotators_progress(*, project: Project) -> list[dict[str, Any]]:
    """Each member's votes in the project (from the labelling page and from imports)."""
    rows = (
        Vote.objects.filter(pair__project=project)
        .values("annotator_id", "annotator__username")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return [
        {"id": r["annotator_id"], "username": r["annotator__username"], "votes": r["n"]}
        for r in rows
    ]


def gold_accuracy(*, project: Project) -> list[dict[str, Any]]:
    """Per annotator: votes on gold pairs, how many matched the gold answer, the share."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT u.id, u.username, count(*), count(*) FILTER (WHERE v.choice = g.choice)
            FROM labelling_goldanswer g
            JOIN labelling_vote v ON v.pair_id = g.pair_id
            JOIN {USERS} u ON u.id = v.annotator_id
            WHERE g.project_id = %s
            GROUP BY u.id, u.username ORDER BY u.username
            """,
            [project.pk],
        )
        rows = cursor.fetchall()
    return [
        {"id": uid, "username": name, "votes": n, "correct": ok, "accuracy": ok / n}
        for uid, name, n, ok in rows
    ]


def gold_answers(*, project: Project, limit: int = 200) -> list[GoldAnswer]:
    """The gold answers, newest first, each with ``.preview`` of its pair's texts."""
    golds = (
        GoldAnswer.objects.filter(project=project)
        .select_related("created_by")
        .annotate(
            n_votes=Count("pair__votes"),
            n_correct=Count("pair__votes", filter=Q(pair__votes__choice=F("choice"))),
        )
        .order_by("-created_at")
    )
    return with_previews(list(golds[:limit]))


def agreement_report_latest(*, project: Project) -> AgreementReport | None:
    return AgreementReport.objects.filter(project=project).first()


def human_labels_page(
    *, project: Project, after_id: int = 0, label: str = "", limit: int = 50
) -> list[HumanLabel]:
    """Aggregated labels in pair order (keyset pagination), each with ``.preview`` of its
    pair's texts."""
    qs = HumanLabel.objects.filter(project=project, pair_id__gt=after_id)
    if label:
        qs = qs.filter(label=label)
    return with_previews(list(qs.order_by("pair_id")[:limit]))


def human_label_counts(*, project: Project) -> dict[str, dict[str, int]]:
    """Aggregated labels counted by label, and by source."""
    by_label: dict[str, int] = {}
    by_source: dict[str, int] = {}
    rows = (
        HumanLabel.objects.filter(project=project)
        .values("label", "source")
        .annotate(n=Count("pair_id"))
        .order_by()
    )
    for row in rows:
        by_label[row["label"]] = by_label.get(row["label"], 0) + row["n"]
        by_source[row["source"]] = by_source.get(row["source"], 0) + row["n"]
    return {"by_label": by_label, "by_source": by_source}
