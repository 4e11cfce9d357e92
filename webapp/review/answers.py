"""Answers about labels: which scored pairs' labels turned out right or wrong, and so how often
each kind of flag was right.

A pair scored in a run has the label the run scored (``PairScore.label_scored``). Something
that came later answers whether that label was right, in this order of authority:
  1. the review decision in force: keep, flip or tie give the reviewer's label; drop says the
     pair is not fit to train on (its label counts as wrong);
  2. a gold answer ("both bad" counts as a tie);
  3. decisive human votes: at least two A/B votes, two thirds or more of them for one
     response.
An answer counts only where the run's label did not come from that same evidence: a pair
scored with a reviewer's label is not answered by that reviewer's decision, one scored with
its gold answer not by the gold answer, and human votes answer only a label that was
imported. The label was wrong when the answer differs from it.

A flag is confirmed when its pair's answer says the label was wrong, refuted when it says it
was right. The precision of a flag kind in a run is its confirmed share of answered flagged
pairs, with a Wilson 95% interval (scipy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import connection

from webapp.flags.models import Flag
from webapp.labelling.models import GoldAnswer, Vote
from webapp.review.models import PairReview
from webapp.scoring.models import PairScore

FLAGS = Flag._meta.db_table
GOLD = GoldAnswer._meta.db_table
REVIEWS = PairReview._meta.db_table
SCORES = PairScore._meta.db_table
VOTES = Vote._meta.db_table

# Votes that answer a label: at least this many decisive ones, this share for one response.
MIN_VOTES = 2
MAJORITY = 2 / 3


def _answer_sql() -> str:
    """Per pair of the run (``s``): ``answer`` (a | b | tie | drop, or NULL) and its
    ``source`` (review | gold | votes). Parameter: run."""
    votes = f"""
        SELECT v.pair_id, count(*) FILTER (WHERE v.choice = 'a') AS a,
            count(*) FILTER (WHERE v.choice = 'b') AS b
        FROM {VOTES} v
        WHERE v.choice IN ('a', 'b')
          AND v.pair_id IN (SELECT pair_id FROM {SCORES} WHERE run_id = %(run)s)
        GROUP BY v.pair_id
    """
    decisive = f"va.a + va.b >= {MIN_VOTES} AND greatest(va.a, va.b) >= {MAJORITY} * (va.a + va.b)"
    return f"""
        SELECT s.pair_id, s.label_scored, a.answer, a.source
        FROM {SCORES} s
        LEFT JOIN {REVIEWS} rv ON rv.pair_id = s.pair_id
        LEFT JOIN {GOLD} g ON g.pair_id = s.pair_id
        LEFT JOIN ({votes}) va ON va.pair_id = s.pair_id
        CROSS JOIN LATERAL (SELECT
            CASE
                WHEN rv.outcome IN ('keep', 'flip', 'tie') AND s.label_source <> 'review'
                    THEN rv.label
                WHEN rv.outcome = 'drop' AND s.label_source NOT IN ('review', 'dropped')
                    THEN 'drop'
                WHEN g.pair_id IS NOT NULL AND s.label_source <> 'gold'
                    THEN CASE WHEN g.choice = 'both_bad' THEN 'tie' ELSE g.choice END
                WHEN s.label_source = 'imported' AND {decisive}
                    THEN CASE WHEN va.a > va.b THEN 'a' ELSE 'b' END
            END AS answer,
            CASE
                WHEN rv.outcome IN ('keep', 'flip', 'tie') AND s.label_source <> 'review'
                    THEN 'review'
                WHEN rv.outcome = 'drop' AND s.label_source NOT IN ('review', 'dropped')
                    THEN 'review'
                WHEN g.pair_id IS NOT NULL AND s.label_source <> 'gold' THEN 'gold'
                WHEN s.label_source = 'imported' AND {decisive} THEN 'votes'
            END AS source
        ) a
        WHERE s.run_id = %(run)s
    """


@dataclass
class Answers:
    """The answered pairs of a run: ids, whether the scored label was wrong, and the answer's
    source, as parallel arrays."""

    pair_ids: np.ndarray
    wrong: np.ndarray
    sources: list[str]

    @property
    def by_source(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for source in self.sources:
            out[source] = out.get(source, 0) + 1
        return out


def run_answers(*, run_id: int) -> Answers:
    """Every pair of the run that has an answer (see the module's docstring)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pair_id, label_scored <> answer, source FROM ({_answer_sql()}) t "
            "WHERE answer IS NOT NULL ORDER BY pair_id",
            {"run": run_id},
        )
        rows = cursor.fetchall()
    return Answers(
        pair_ids=np.array([r[0] for r in rows], dtype=np.int64),
        wrong=np.array([bool(r[1]) for r in rows], dtype=bool),
        sources=[str(r[2]) for r in rows],
    )


@dataclass(frozen=True)
class Precision:
    kind: str
    flagged: int  # pairs with a flag of the kind (in the run, or tied to no run)
    answered: int  # of those, pairs with an answer
    confirmed: int  # of those, pairs whose answer says the label was wrong
    low: float | None  # Wilson 95% interval of confirmed / answered
    high: float | None

    @property
    def share(self) -> float | None:
        return self.confirmed / self.answered if self.answered else None


def wilson(confirmed: int, answered: int) -> tuple[float | None, float | None]:
    """The Wilson score 95% interval of a share; (None, None) with nothing answered."""
    if answered == 0:
        return None, None
    from scipy.stats import binomtest

    ci = binomtest(confirmed, answered).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def flag_precision(*, project_id: int, run_id: int) -> list[Precision]:
    """Per flag kind of the run's flags (and of those tied to no run), the share of answered
    flagged pairs whose answer confirmed the flag, in one set-based query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT f.kind, count(DISTINCT f.pair_id),
                count(DISTINCT f.pair_id) FILTER (WHERE t.answer IS NOT NULL),
                count(DISTINCT f.pair_id) FILTER (WHERE t.answer <> t.label_scored)
            FROM {FLAGS} f
            LEFT JOIN ({_answer_sql()}) t ON t.pair_id = f.pair_id
            WHERE f.project_id = %(project)s
              AND (f.scoring_run_id = %(run)s OR f.scoring_run_id IS NULL)
            GROUP BY f.kind ORDER BY f.kind
            """,
            {"project": project_id, "run": run_id},
        )
        rows = cursor.fetchall()
    return [
        Precision(kind, int(n), int(a), int(c), *wilson(int(c), int(a))) for kind, n, a, c in rows
    ]
