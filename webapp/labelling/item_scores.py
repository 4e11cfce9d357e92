"""Reads of answers on items as scores: one row per (item, position, annotator, attribute).

What agreement per attribute, leniency, per-attribute models and the HelpSteer2-layout export
read, so they all see an answer the same way (``derive.scores_of``: ratings as they are, a
ranking as minus its tier index, best-worst as +1 / 0 / -1; "" is the overall score). With
``repeats``, the same reads of the answers to self-consistency repeats
(webapp/labelling/repeats.py), which only the agreement report's self-consistency reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection

from webapp.labelling.derive import scores_of
from webapp.labelling.models import ItemAnswer, RepeatAnswer
from webapp.projects.models import Project
from webapp.projects.schemes import scheme_settings_of

ANSWERS = ItemAnswer._meta.db_table
REPEATS = RepeatAnswer._meta.db_table
BATCH = 2000


@dataclass(frozen=True, slots=True)
class ScoreRow:
    item_id: int
    position: int
    annotator_id: int
    attribute: str  # "" for the overall score
    value: float
    kind: str


def item_payloads(
    *, project: Project, item_ids: list[int] | None = None, repeats: bool = False
) -> Iterator[tuple[int, int, str, dict[str, Any]]]:
    """(item, annotator, kind, payload) of every answer of the project (or those on
    ``item_ids``), by item then annotator; of the answers to its repeats with ``repeats``.
    Streamed from a server-side cursor, so any size of project fits in memory."""
    table, where = (REPEATS, " AND item_id IS NOT NULL") if repeats else (ANSWERS, "")
    where = "project_id = %s" + where + (" AND item_id = ANY(%s)" if item_ids is not None else "")
    params: list[Any] = [project.pk] + ([item_ids] if item_ids is not None else [])
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT item_id, annotator_id, kind, payload FROM {table} WHERE {where} "
            "ORDER BY item_id, annotator_id",
            params,
        )
        while rows := cursor.fetchmany(BATCH):
            for item_id, annotator_id, kind, payload in rows:
                data = payload if isinstance(payload, dict) else json.loads(payload)
                yield item_id, annotator_id, kind, data


def item_scores(
    *,
    project: Project,
    item_ids: list[int] | None = None,
    with_overall: bool = True,
    repeats: bool = False,
) -> Iterator[ScoreRow]:
    """Every score the project's answers give (or those on ``item_ids``; the answers to its
    repeats with ``repeats``), by item then annotator."""
    settings = scheme_settings_of(project)
    for item_id, annotator_id, kind, data in item_payloads(
        project=project, item_ids=item_ids, repeats=repeats
    ):
        for attribute, scores in scores_of(kind=kind, payload=data, settings=settings).items():
            if attribute == "" and not with_overall:
                continue
            for position, value in sorted(scores.items()):
                yield ScoreRow(item_id, position, annotator_id, attribute, value, kind)
