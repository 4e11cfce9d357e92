"""Writes for answers on items: storing them in bulk (imports) and deriving their pairs.

An answer's votes (webapp/labelling/derive.py) land on the item's derived pairs, ordinary Pair
rows created here on first need, one per (item, lower position, higher position, attribute)
and keyed by ``derived_pair_key``. Their ``votes_wanted`` is 0: the item is what the queue
serves, never its pairs. ``item_answers_derive`` is idempotent and set-based: a handful of
statements for any number of items, whatever was derived before.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from webapp.labelling.derive import derive_votes
from webapp.labelling.models import ItemAnswer, Vote
from webapp.pairs.hashing import derived_pair_key
from webapp.pairs.models import Item, ItemResponse, Pair
from webapp.projects.models import Project
from webapp.projects.schemes import SchemeSettings, scheme_settings_of

ANSWERS = ItemAnswer._meta.db_table
ITEMS = Item._meta.db_table
ITEM_RESPONSES = ItemResponse._meta.db_table
PAIRS = Pair._meta.db_table
VOTES = Vote._meta.db_table


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """An answer to store in bulk; its payload already cleaned (payloads.payload_clean)."""

    item_id: int
    annotator_id: int
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Derived:
    pairs_created: int
    votes_created: int
    answers_created: int = 0


def item_answers_store(*, project: Project, answers: Sequence[AnswerRow]) -> Derived:
    """Insert the answers (one per item and annotator: an existing one is kept as it was) and
    derive their items' pairs; returns how many answers, pairs and votes were new. The
    caller's transaction holds both."""
    if not answers:
        return Derived(0, 0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ANSWERS} (item_id, project_id, annotator_id, kind, payload,
                shown_order, created_at)
            SELECT a.item_id, %(project)s, a.annotator_id, a.kind, a.payload, '[]', %(now)s
            FROM unnest(%(items)s::bigint[], %(annotators)s::bigint[], %(kinds)s::text[],
                %(payloads)s::jsonb[]) AS a(item_id, annotator_id, kind, payload)
            ON CONFLICT (item_id, annotator_id) DO NOTHING
            """,
            {
                "project": project.pk,
                "now": timezone.now(),
                "items": [a.item_id for a in answers],
                "annotators": [a.annotator_id for a in answers],
                "kinds": [a.kind for a in answers],
                "payloads": [json.dumps(a.payload) for a in answers],
            },
        )
        created = cursor.rowcount
    derived = item_answers_derive(project=project, item_ids=sorted({a.item_id for a in answers}))
    return Derived(derived.pairs_created, derived.votes_created, created)


def _answers(item_ids: list[int]) -> list[tuple[int, int, int, str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, item_id, annotator_id, kind, payload FROM {ANSWERS} "
            "WHERE item_id = ANY(%s) ORDER BY id",
            [item_ids],
        )
        return [
            (
                row[0],
                row[1],
                row[2],
                row[3],
                row[4] if isinstance(row[4], dict) else json.loads(row[4]),
            )
            for row in cursor.fetchall()
        ]


def _derive(
    answers: Iterable[tuple[int, int, int, str, Any]], settings: SchemeSettings
) -> tuple[
    dict[bytes, tuple[int, int, int, str]], list[tuple[bytes, int, str, int]], dict[bytes, float]
]:
    """Pairs wanted (key -> item, first, second, attribute), votes (key, annotator, choice,
    answer) and each pair's mean margin over the answers that vote on it."""
    pairs: dict[bytes, tuple[int, int, int, str]] = {}
    votes: list[tuple[bytes, int, str, int]] = []
    margins: dict[bytes, list[float]] = defaultdict(list)
    for answer_id, item_id, annotator_id, kind, payload in answers:
        for vote in derive_votes(kind=kind, payload=payload, settings=settings):
            key = derived_pair_key(
                item_id=item_id, first=vote.first, second=vote.second, attribute=vote.attribute
            )
            pairs[key] = (item_id, vote.first, vote.second, vote.attribute)
            votes.append((key, annotator_id, vote.choice, answer_id))
            margins[key].append(vote.margin)
    return pairs, votes, {k: sum(m) / len(m) for k, m in margins.items()}


def item_answers_derive(*, project: Project, item_ids: list[int]) -> Derived:
    """Bring the derived pairs of these items, their votes and margins in line with the items'
    answers: create the pairs answers vote on, add each answer's missing votes, and set every
    derived pair's margin to the mean over the answers voting on it (null where none does).
    Votes already stored stay as they are (one per pair and annotator)."""
    if not item_ids:
        return Derived(0, 0)
    settings = scheme_settings_of(project)
    pairs, votes, margins = _derive(_answers(item_ids), settings)
    now = timezone.now()
    with connection.cursor() as cursor:
        pairs_created = 0
        if pairs:
            keys = list(pairs)
            cursor.execute(
                f"""
                INSERT INTO {PAIRS} (project_id, prompt_id, response_a_id, response_b_id,
                    imported_label, dedup_key, source_file, source_line, split, external_id,
                    votes_wanted, metadata, import_batch_id, item_id, attribute, created_at)
                SELECT i.project_id, i.prompt_id, ra.response_id, rb.response_id, '', d.k,
                    i.source_file, i.source_line, i.split, i.external_id, 0,
                    jsonb_build_object('positions', jsonb_build_array(d.first, d.second)),
                    i.import_batch_id, i.id, d.attribute, %(now)s
                FROM unnest(%(keys)s::bytea[], %(items)s::bigint[], %(firsts)s::int[],
                    %(seconds)s::int[], %(attributes)s::text[])
                    AS d(k, item_id, first, second, attribute)
                JOIN {ITEMS} i ON i.id = d.item_id AND i.project_id = %(project)s
                JOIN {ITEM_RESPONSES} ra ON ra.item_id = i.id AND ra.position = d.first
                JOIN {ITEM_RESPONSES} rb ON rb.item_id = i.id AND rb.position = d.second
                ON CONFLICT (project_id, dedup_key) DO NOTHING
                """,
                {
                    "project": project.pk,
                    "now": now,
                    "keys": keys,
                    "items": [pairs[k][0] for k in keys],
                    "firsts": [pairs[k][1] for k in keys],
                    "seconds": [pairs[k][2] for k in keys],
                    "attributes": [pairs[k][3] for k in keys],
                },
            )
            pairs_created = cursor.rowcount
        votes_created = 0
        if votes:
            cursor.execute(
                f"""
                INSERT INTO {VOTES} (pair_id, annotator_id, choice, shown_order, rationale,
                    item_answer_id, created_at)
                SELECT p.id, v.annotator_id, v.choice, 'ab', '', v.answer_id, %(now)s
                FROM unnest(%(keys)s::bytea[], %(annotators)s::bigint[], %(choices)s::text[],
                    %(answers)s::bigint[]) AS v(k, annotator_id, choice, answer_id)
                JOIN {PAIRS} p ON p.project_id = %(project)s AND p.dedup_key = v.k
                ON CONFLICT (pair_id, annotator_id) DO NOTHING
                """,
                {
                    "project": project.pk,
                    "now": now,
                    "keys": [v[0] for v in votes],
                    "annotators": [v[1] for v in votes],
                    "choices": [v[2] for v in votes],
                    "answers": [v[3] for v in votes],
                },
            )
            votes_created = cursor.rowcount
        # Every derived pair of the items: the mean margin of its answers, or none left.
        cursor.execute(
            f"""
            UPDATE {PAIRS} p SET margin = m.margin
            FROM (
                SELECT p2.id, d.margin FROM {PAIRS} p2
                LEFT JOIN unnest(%(keys)s::bytea[], %(margins)s::float8[]) AS d(k, margin)
                    ON d.k = p2.dedup_key
                WHERE p2.item_id = ANY(%(items)s) AND p2.project_id = %(project)s
            ) m
            WHERE p.id = m.id AND p.margin IS DISTINCT FROM m.margin
            """,
            {
                "project": project.pk,
                "items": item_ids,
                "keys": list(margins),
                "margins": list(margins.values()),
            },
        )
    return Derived(pairs_created, votes_created)
