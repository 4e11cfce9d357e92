"""Ambiguity-driven votes: after a scoring run, when the project asks for it, more human votes
on its most ambiguous or disputed pairs, served first by the labelling queue; and what those
votes changed."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from webapp.labelling import ordering, queue
from webapp.labelling.models import QueueItem
from webapp.pairs.labels import effective_label_sql
from webapp.pairs.models import Pair
from webapp.projects.models import Project
from webapp.review.decisions import MAX_EXTRA_VOTES, ReviewError
from webapp.review.models import (
    AmbiguityRequest,
    AmbiguityRequestPair,
    ReviewSettings,
)
from webapp.review.queue import review_settings_for
from webapp.scoring.models import PairScore, ScoringRun

PAIRS = Pair._meta.db_table
QUEUE = QueueItem._meta.db_table
SCORES = PairScore._meta.db_table

AMBIGUOUS_ORDER = "most_ambiguous"


def review_settings_update(
    *, project: Project, ambiguity_votes: bool, ambiguity_pairs: int, ambiguity_extra_votes: int
) -> ReviewSettings:
    """Turning ambiguity-driven votes on also serves the labelling queue most ambiguous first;
    turning them off gives back the default order."""
    if not 1 <= ambiguity_pairs <= 100_000:
        raise ReviewError("pairs per run: 1 to 100000")
    if not 1 <= ambiguity_extra_votes <= MAX_EXTRA_VOTES:
        raise ReviewError(f"extra votes per pair: 1 to {MAX_EXTRA_VOTES}")
    with transaction.atomic():
        settings = ReviewSettings.objects.select_for_update().get_or_create(project=project)[0]
        settings.ambiguity_votes = ambiguity_votes
        settings.ambiguity_pairs = ambiguity_pairs
        settings.ambiguity_extra_votes = ambiguity_extra_votes
        settings.save()
        if ambiguity_votes:
            Project.objects.filter(pk=project.pk).update(queue_order=AMBIGUOUS_ORDER)
        else:
            Project.objects.filter(pk=project.pk, queue_order=AMBIGUOUS_ORDER).update(
                queue_order=ordering.DEFAULT
            )
    project.refresh_from_db(fields=["queue_order"])
    return settings


# How a scored pair ranks for extra votes: near 1 when the ensemble cannot tell (|mu| small
# against sigma), plus up to 1 when its human votes are split evenly.
_PRIORITY = """
    1.0 / (1.0 + abs(s.mu) / greatest(s.sigma, 1e-6))
    + CASE WHEN coalesce(va.a, 0) + coalesce(va.b, 0) > 0
           THEN 1.0 - abs(va.a - va.b)::float8 / (va.a + va.b) ELSE 0 END
"""


def ambiguity_votes_request(*, run_id: int) -> AmbiguityRequest | None:
    """After a complete scoring run, when the project asks for it: more human votes on its
    most ambiguous or disputed pairs, first in the labelling queue. Once per run."""
    run = ScoringRun.objects.select_related("project").get(pk=run_id)
    project = run.project
    settings = review_settings_for(project=project)
    if not settings.ambiguity_votes or not run.complete:
        return None
    with transaction.atomic():
        existing = AmbiguityRequest.objects.filter(scoring_run=run).first()
        if existing is not None:
            return existing
        parts = effective_label_sql(
            pair="p",
            votes_where=f"v.pair_id IN (SELECT pair_id FROM {SCORES} WHERE run_id = %(run)s)",
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT s.pair_id, {_PRIORITY} AS priority, coalesce(q.votes, 0),
                    coalesce({parts.label}, '')
                FROM {SCORES} s
                JOIN {PAIRS} p ON p.id = s.pair_id
                LEFT JOIN {QUEUE} q ON q.pair_id = s.pair_id
                {parts.joins}
                WHERE s.run_id = %(run)s AND coalesce(rv.outcome, '') <> 'drop'
                ORDER BY priority DESC, s.pair_id
                LIMIT %(limit)s
                """,
                {"run": run.pk, "limit": settings.ambiguity_pairs},
            )
            picked = cursor.fetchall()
        request = AmbiguityRequest.objects.create(project=project, scoring_run=run)
        ids = [row[0] for row in picked]
        raised = queue.votes_wanted_raise(
            project=project, pair_ids=ids, extra=settings.ambiguity_extra_votes
        )
        queue.queue_priority_set(
            project=project, priorities={row[0]: float(row[1]) for row in picked}
        )
        AmbiguityRequestPair.objects.bulk_create(
            [
                AmbiguityRequestPair(
                    request=request, pair_id=pid, priority=float(pr), votes_before=int(votes),
                    label_before=label,
                )
                for pid, pr, votes, label in picked
            ],
            batch_size=5000,
        )  # fmt: skip
        request.n_pairs = raised
        request.votes_asked = raised * settings.ambiguity_extra_votes
        request.save(update_fields=["n_pairs", "votes_asked"])
    return request


@dataclass
class AmbiguityOutcome:
    request: AmbiguityRequest
    votes_received: int  # votes cast on its pairs since it asked
    pairs_with_new_votes: int
    labels_changed: int  # pairs whose effective label now differs from the one they had


def ambiguity_outcomes(*, project: Project, limit: int = 5) -> list[AmbiguityOutcome]:
    """The latest requests for extra votes and what the votes changed since, set-based."""
    requests = list(AmbiguityRequest.objects.filter(project=project).order_by("-id")[:limit])
    if not requests:
        return []
    parts = effective_label_sql(
        pair="p",
        votes_where="v.pair_id IN (SELECT pair_id FROM review_ambiguityrequestpair "
        "WHERE request_id = ANY(%(ids)s))",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.request_id,
                coalesce(sum(greatest(coalesce(q.votes, 0) - a.votes_before, 0)), 0),
                count(*) FILTER (WHERE coalesce(q.votes, 0) > a.votes_before),
                count(*) FILTER (WHERE coalesce({parts.label}, '') <> a.label_before)
            FROM review_ambiguityrequestpair a
            JOIN {PAIRS} p ON p.id = a.pair_id
            LEFT JOIN {QUEUE} q ON q.pair_id = a.pair_id
            {parts.joins}
            WHERE a.request_id = ANY(%(ids)s)
            GROUP BY a.request_id
            """,
            {"ids": [r.pk for r in requests]},
        )
        found = {row[0]: row[1:] for row in cursor.fetchall()}
    return [AmbiguityOutcome(r, *(int(x) for x in found.get(r.pk, (0, 0, 0)))) for r in requests]
