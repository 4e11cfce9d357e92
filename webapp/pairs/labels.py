"""The effective label of a pair: the one function every part of PrefLab asks.

Order of authority: the pair's aggregated human label (gold answer, Dawid-Skene or majority,
as the last aggregation computed it); else a plain majority of its votes when they are newer
than any aggregation; else the label the pair was imported with. (Review decisions, when
they exist, will come first.)
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from webapp.projects.models import Project


@dataclass(frozen=True, slots=True)
class EffectiveLabel:
    label: str  # "a" | "b" | "tie" | ""
    source: str  # "gold" | "dawid_skene" | "majority" | "votes" | "imported" | "none"
    # confidence of a human label: Dawid-Skene posterior or share of votes that agree
    agreement: float | None


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
            "SELECT pair_id, label, source, confidence FROM labelling_humanlabel "
            "WHERE project_id = %s",
            [project.pk],
        )
        aggregated = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT id, imported_label FROM pairs_pair WHERE project_id = %s", [project.pk]
        )
        imported = cursor.fetchall()
    labels: dict[int, EffectiveLabel] = {}
    for pair_id, label in imported:
        a, b = votes.get(pair_id, (0, 0))
        if pair_id in aggregated:
            human, source, confidence = aggregated[pair_id]
            if human == "both_bad":  # no preference between the two
                human = "tie"
            labels[pair_id] = EffectiveLabel(human, source, confidence)
        elif a + b and a != b:
            winner = "a" if a > b else "b"
            labels[pair_id] = EffectiveLabel(winner, "votes", max(a, b) / (a + b))
        elif a + b:
            labels[pair_id] = EffectiveLabel("tie", "votes", 0.5)
        else:
            labels[pair_id] = EffectiveLabel(label, "imported" if label else "none", None)
    return labels
