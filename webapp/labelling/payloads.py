"""The payload of an ItemAnswer, one shape per kind, and the one place that validates them.

Positions are an item's ItemResponse positions (0, 1, ...); JSON keys are their decimal text.

- ranking: ``{"tiers": [[pos, ...], ...]}``, best first; responses in one tier are tied; every
  position of the item appears exactly once.
- best_worst: ``{"shown": [pos, ...], "best": pos, "worst": pos}``: the subset shown, and the
  best and worst of it (two different positions of ``shown``).
- rating: ``{"ratings": {"<pos>": {"<attribute>": value}}}``: every position on every
  attribute of the project's settings, each value within its attribute's scale.
- pairwise_attributes (an item of exactly two responses, A at the lower position):
  ``{"overall": "a"|"b"|"tie", "attributes": {"<attribute>": "a"|"b"|"tie"}}``.
- steps (an item of one response, a solution of n steps: webapp/pairs/steps.py):
  ``{"steps": [1 | 0 | -1 | null, ...], "first_error": k | -1 | null}``: n labels, good /
  neutral / bad or not labelled (after a "stop at the first bad step", say), and the first
  wrong step (-1: every step right), which must agree with the labels; without one it is read
  from them. Its cleaner needs ``n_steps``.

Another scheme adds its kind to ``CLEANERS`` (and to ``webapp.labelling.derive.DERIVERS``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from webapp.pairs.steps import first_error_of
from webapp.projects.schemes import SchemeSettings

SIDES = ("a", "b", "tie")


class PayloadError(ValueError):
    """A bad answer payload; ``field`` names where, e.g. ``ratings.2.helpfulness``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _position(value: Any, field: str, positions: Sequence[int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(field, "must be a response position (an integer)")
    if value not in positions:
        raise PayloadError(field, f"{value} is not a position of this item")
    return value


def _object(payload: Any, keys: set[str]) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise PayloadError("payload", "must be an object")
    missing = sorted(keys - set(payload))
    if missing:
        raise PayloadError(missing[0], "is required")
    unknown = sorted(set(payload) - keys)
    if unknown:
        raise PayloadError(unknown[0], "is not part of this answer")
    return payload


def clean_ranking(payload: Any, positions: Sequence[int], settings: SchemeSettings) -> dict:
    tiers = _object(payload, {"tiers"})["tiers"]
    if not isinstance(tiers, list) or not tiers:
        raise PayloadError("tiers", "must be a non-empty list of lists of positions")
    seen: set[int] = set()
    cleaned = []
    for t, tier in enumerate(tiers):
        if not isinstance(tier, list) or not tier:
            raise PayloadError(f"tiers.{t}", "must be a non-empty list of positions")
        for k, value in enumerate(tier):
            pos = _position(value, f"tiers.{t}.{k}", positions)
            if pos in seen:
                raise PayloadError(f"tiers.{t}.{k}", f"position {pos} is ranked twice")
            seen.add(pos)
        cleaned.append(sorted(tier))
    missing = sorted(set(positions) - seen)
    if missing:
        raise PayloadError("tiers", f"position {missing[0]} is not ranked")
    return {"tiers": cleaned}


def clean_best_worst(payload: Any, positions: Sequence[int], settings: SchemeSettings) -> dict:
    data = _object(payload, {"shown", "best", "worst"})
    shown = data["shown"]
    if not isinstance(shown, list) or len(shown) < 2:
        raise PayloadError("shown", "must list at least two positions")
    cleaned = [_position(v, f"shown.{k}", positions) for k, v in enumerate(shown)]
    if len(set(cleaned)) != len(cleaned):
        raise PayloadError("shown", "lists a position twice")
    best = _position(data["best"], "best", cleaned)
    worst = _position(data["worst"], "worst", cleaned)
    if best == worst:
        raise PayloadError("worst", "must differ from best")
    return {"shown": sorted(cleaned), "best": best, "worst": worst}


def clean_rating(payload: Any, positions: Sequence[int], settings: SchemeSettings) -> dict:
    ratings = _object(payload, {"ratings"})["ratings"]
    if not isinstance(ratings, dict):
        raise PayloadError("ratings", "must be an object keyed by position")
    cleaned: dict[str, dict[str, float | int]] = {}
    for key in ratings:
        if not (isinstance(key, str) and key.isdigit() and int(key) in positions):
            raise PayloadError(f"ratings.{key}", "is not a position of this item")
    for pos in positions:
        row = ratings.get(str(pos))
        if not isinstance(row, dict):
            raise PayloadError(f"ratings.{pos}", "is required: an object of attribute values")
        for name in row:
            if settings.attribute(name) is None:
                raise PayloadError(f"ratings.{pos}.{name}", "is not an attribute of the project")
        values: dict[str, float | int] = {}
        for attribute in settings.attributes:
            field = f"ratings.{pos}.{attribute.name}"
            value = row.get(attribute.name)
            if value is None:
                raise PayloadError(field, "is required")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PayloadError(field, "must be a number")
            if not math.isfinite(value) or not attribute.low <= value <= attribute.high:
                raise PayloadError(
                    field, f"must be between {attribute.low:g} and {attribute.high:g}"
                )
            values[attribute.name] = value
        cleaned[str(pos)] = values
    return {"ratings": cleaned}


def _side(value: Any, field: str) -> str:
    if value not in SIDES:
        raise PayloadError(field, "must be a, b or tie")
    return str(value)


def clean_pairwise_attributes(
    payload: Any, positions: Sequence[int], settings: SchemeSettings
) -> dict:
    if list(positions) != [0, 1]:
        raise PayloadError("payload", "a pairwise answer needs an item of two responses, 0 and 1")
    data = _object(payload, {"overall", "attributes"})
    attributes = data["attributes"]
    if not isinstance(attributes, dict):
        raise PayloadError("attributes", "must be an object of a / b / tie per attribute")
    for name in attributes:
        if settings.attribute(name) is None:
            raise PayloadError(f"attributes.{name}", "is not an attribute of the project")
    cleaned = {}
    for name in settings.names():
        if name not in attributes:
            raise PayloadError(f"attributes.{name}", "is required")
        cleaned[name] = _side(attributes[name], f"attributes.{name}")
    return {"overall": _side(data["overall"], "overall"), "attributes": cleaned}


def clean_steps(payload: Any, *, n_steps: int | None) -> dict:
    if n_steps is None or n_steps < 1:
        raise PayloadError("steps", "the item has no steps to label")
    data = _object(payload, {"steps", "first_error"})
    steps = data["steps"]
    if not isinstance(steps, list) or len(steps) != n_steps:
        raise PayloadError("steps", f"must list one label per step ({n_steps})")
    for i, label in enumerate(steps):
        if label is not None and (isinstance(label, bool) or label not in (1, 0, -1)):
            raise PayloadError(f"steps.{i}", "must be 1 (good), 0 (neutral), -1 (bad) or null")
    implied = first_error_of(steps)
    first = data["first_error"]
    if first is not None:
        if isinstance(first, bool) or not isinstance(first, int) or not -1 <= first < n_steps:
            raise PayloadError("first_error", f"must be -1 or a step from 0 to {n_steps - 1}")
        if implied is not None and implied != first:
            raise PayloadError("first_error", f"is {first} but the step labels say {implied}")
        if first >= 0 and steps[first] not in (None, -1):
            raise PayloadError(f"steps.{first}", "is the first error, so it cannot be good")
        if any(label == -1 for label in steps[: max(first, 0) if first >= 0 else n_steps]):
            raise PayloadError("first_error", "a step before it is labelled bad")
    else:
        first = implied
    if first is None and all(label is None for label in steps):
        raise PayloadError("steps", "label at least one step, or give the first error")
    return {"steps": list(steps), "first_error": first}


Cleaner = Callable[[Any, Sequence[int], SchemeSettings], dict]
CLEANERS: dict[str, Cleaner] = {
    "ranking": clean_ranking,
    "best_worst": clean_best_worst,
    "rating": clean_rating,
    "pairwise_attributes": clean_pairwise_attributes,
}

# The kinds of answer each label scheme takes (Project.LabelScheme -> ItemAnswer.Kind).
SCHEME_KINDS: dict[str, tuple[str, ...]] = {
    "ranking": ("ranking", "best_worst"),
    "rating": ("rating",),
    "pairwise_attributes": ("pairwise_attributes",),
    "steps": ("steps",),
}


def payload_clean(
    *,
    kind: str,
    payload: Any,
    positions: Sequence[int],
    settings: SchemeSettings,
    n_steps: int | None = None,
) -> dict:
    """The payload in its canonical form (tiers and subsets sorted, values checked against the
    settings), or PayloadError naming the bad field. ``n_steps``: the solution's steps, for
    the steps kind (which is about one response's parts, not about several responses)."""
    if kind == "steps":
        return clean_steps(payload, n_steps=n_steps)
    cleaner = CLEANERS.get(kind)
    if cleaner is None:
        raise PayloadError("kind", f"{kind!r} is not a kind of answer")
    return cleaner(payload, sorted(positions), settings)


def kind_asked(*, scheme: str, settings: SchemeSettings) -> str:
    """The kind of answer the labelling page asks for in a project of this scheme."""
    if scheme == "ranking":
        return "best_worst" if settings.ranking_mode == "best_worst" else "ranking"
    if scheme not in SCHEME_KINDS:
        raise PayloadError("label_scheme", f"{scheme!r} does not label items")
    return SCHEME_KINDS[scheme][0]
