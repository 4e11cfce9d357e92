"""From one answer on an item to votes on its pairs: pure functions, no database.

Every answer kind comes down to a score per response position (higher is better) for each
attribute it speaks of ("" is overall), and the scores to votes the same way:

- a ranking scores a response minus its tier's index (best tier 0), so the margin of a pair is
  its rank gap; a tie within a tier is a "tie" vote with margin 0;
- best-worst scores the best +1, the worst -1, the rest of the shown subset 0; two responses
  that were neither best nor worst were not compared, so they give no vote;
- a rating scores each attribute by its value, and overall by the weighted mean the settings
  give (``SchemeSettings.overall``; no weights: the plain mean), so a margin is a rating gap;
- pairwise per attribute scores the better of A and B 1, the other 0 (both 0 on a tie), on
  each attribute and overall: a margin of 1.

``derivation`` "all" gives a vote on every pair of positions the answer compares; "best_vs_rest"
only the best-scored response(s) against each of the others. A vote is always about the pair
(lower position, higher position): choice "a" when the lower position is better, and a signed
margin, positive when "a" is better.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from webapp.projects.schemes import SchemeSettings

OVERALL = ""
# Ratings imported as means of several raters (2.3333333333) differ in the last digits only.
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class DerivedVote:
    first: int  # the position of the pair's response_a (the lower one)
    second: int  # the position of response_b
    attribute: str  # "" for overall
    choice: str  # "a" | "b" | "tie"
    margin: float  # how much better "a" is than "b": rank or rating gap, negative if b is


def _vote(first: int, second: int, attribute: str, gap: float) -> DerivedVote:
    if abs(gap) <= TIE_TOLERANCE:
        return DerivedVote(first, second, attribute, "tie", 0.0)
    return DerivedVote(first, second, attribute, "a" if gap > 0 else "b", round(gap, 9))


def votes_from_scores(
    scores: dict[int, float],
    *,
    attribute: str,
    derivation: str,
    compared: Callable[[int, int], bool] | None = None,
) -> list[DerivedVote]:
    """Votes on the pairs of ``scores``' positions, lower position first. ``compared`` says
    which pairs the answer compared at all (default: every pair)."""
    positions = sorted(scores)
    if derivation == "best_vs_rest":
        if not positions:
            return []
        top = max(scores.values())
        best = {p for p in positions if scores[p] >= top - TIE_TOLERANCE}
        pairs: Iterable[tuple[int, int]] = (
            (i, j) for i, j in combinations(positions, 2) if (i in best) != (j in best)
        )
    else:
        pairs = combinations(positions, 2)
    return [
        _vote(i, j, attribute, scores[i] - scores[j])
        for i, j in pairs
        if compared is None or compared(i, j)
    ]


def derive_ranking(payload: dict[str, Any], settings: SchemeSettings) -> list[DerivedVote]:
    scores = {pos: -float(t) for t, tier in enumerate(payload["tiers"]) for pos in tier}
    return votes_from_scores(scores, attribute=OVERALL, derivation=settings.derivation)


def derive_best_worst(payload: dict[str, Any], settings: SchemeSettings) -> list[DerivedVote]:
    best, worst = payload["best"], payload["worst"]
    scores = {
        pos: 1.0 if pos == best else -1.0 if pos == worst else 0.0 for pos in payload["shown"]
    }
    ends = {best, worst}
    return votes_from_scores(
        scores,
        attribute=OVERALL,
        derivation=settings.derivation,
        compared=lambda i, j: i in ends or j in ends,
    )


def overall_score(values: dict[str, float], settings: SchemeSettings) -> float:
    weights = settings.overall or tuple((name, 1.0) for name in settings.names())
    total = sum(w for _, w in weights)
    return sum(w * float(values[name]) for name, w in weights) / total


def derive_rating(payload: dict[str, Any], settings: SchemeSettings) -> list[DerivedVote]:
    ratings = {int(pos): values for pos, values in payload["ratings"].items()}
    votes = []
    for name in settings.names():
        scores = {pos: float(values[name]) for pos, values in ratings.items()}
        votes += votes_from_scores(scores, attribute=name, derivation=settings.derivation)
    overall = {pos: overall_score(values, settings) for pos, values in ratings.items()}
    return votes + votes_from_scores(overall, attribute=OVERALL, derivation=settings.derivation)


SIDE_SCORE = {"a": (1.0, 0.0), "b": (0.0, 1.0), "tie": (0.0, 0.0)}


def derive_pairwise_attributes(
    payload: dict[str, Any], settings: SchemeSettings, positions: tuple[int, int] = (0, 1)
) -> list[DerivedVote]:
    a, b = positions
    votes = []
    for name, side in [*payload["attributes"].items(), (OVERALL, payload["overall"])]:
        score_a, score_b = SIDE_SCORE[side]
        votes += votes_from_scores({a: score_a, b: score_b}, attribute=name, derivation="all")
    return votes


Deriver = Callable[[dict[str, Any], SchemeSettings], list[DerivedVote]]
DERIVERS: dict[str, Deriver] = {
    "ranking": derive_ranking,
    "best_worst": derive_best_worst,
    "rating": derive_rating,
    "pairwise_attributes": derive_pairwise_attributes,
}


def derive_votes(
    *, kind: str, payload: dict[str, Any], settings: SchemeSettings
) -> list[DerivedVote]:
    """The votes one cleaned answer (webapp/labelling/payloads.py) gives on its item's pairs.
    A kind without a deriver (none yet) gives none."""
    deriver = DERIVERS.get(kind)
    return [] if deriver is None else deriver(payload, settings)


def scores_of(
    *, kind: str, payload: dict[str, Any], settings: SchemeSettings
) -> dict[str, dict[int, float]]:
    """Per attribute ("" for overall), the score the answer gives each position it scores:
    what agreement per attribute and leniency read (ratings as they are; a ranking as minus
    its tier index)."""
    if kind == "rating":
        ratings = {int(p): v for p, v in payload["ratings"].items()}
        out = {name: {p: float(v[name]) for p, v in ratings.items()} for name in settings.names()}
        out[OVERALL] = {p: overall_score(v, settings) for p, v in ratings.items()}
        return out
    if kind == "ranking":
        return {OVERALL: {p: -float(t) for t, tier in enumerate(payload["tiers"]) for p in tier}}
    if kind == "best_worst":
        best, worst = payload["best"], payload["worst"]
        return {
            OVERALL: {
                p: 1.0 if p == best else -1.0 if p == worst else 0.0 for p in payload["shown"]
            }
        }
    return {}
