"""The effective label of a pair: the one function every part of PrefLab asks.

Order of authority: aggregated human votes where a pair has any decisive ones, else the label
the pair was imported with. (Review decisions, when they exist, will come first.)
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from webapp.projects.models import Project


@dataclass(frozen=True, slots=True)
class EffectiveLabel:
    label: str  # "a" | "b" | "tie" | ""
    source: str  # "votes" | "imported" | "none"
    agreement: float | None  # share of decisive votes that agree with the label, if votes


def effective_labels(*, project: Project) -> dict[int, EffectiveLabel]:
    """Every pair of the project with its effective label, in two set-based queries."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT v.pair_id,
                   count(*) FILTER (WHERE v.choice = 'a'),
                   count(*) FILTER (WHERE v.choice = 'b')
            FROM labelling_vote v JOIN pairs_pair p ON p.id = v.pair_id
            WHERE p.project_id = %s
            GROUP BY v.pair_id
            """,
            [project.pk],
        )
        votes = {pair_id: (a, b) for pair_id, a, b in cursor.fetchall()}
        cursor.execute(
            "SELECT id, imported_label FROM pairs_pair WHERE project_id = %s", [project.pk]
        )
        imported = cursor.fetchall()
    labels: dict[int, EffectiveLabel] = {}
    for pair_id, label in imported:
        a, b = votes.get(pair_id, (0, 0))
        if a + b and a != b:
            winner = "a" if a > b else "b"
            labels[pair_id] = EffectiveLabel(winner, "votes", max(a, b) / (a + b))
        elif a + b:
            labels[pair_id] = EffectiveLabel("tie", "votes", 0.5)
        else:
            labels[pair_id] = EffectiveLabel(label, "imported" if label else "none", None)
    return labels
