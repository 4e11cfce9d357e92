"""A project's label scheme settings: the attributes responses are rated on, how a ranking is
asked for, and how answers become preference pairs.

``Project.scheme_settings`` stores them as JSON; ``scheme_settings_parse`` is the one reader
and the one validator (forms, the API, imports and labelling all call it), so a bad value is
refused with the field it is in, and code past it works with a typed ``SchemeSettings``.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

RANKING_MODES = ("full", "best_worst")
# "all": every pair of responses an answer orders (or ties); "best_vs_rest": only the best
# response(s) of the answer against each of the others.
DERIVATIONS = ("all", "best_vs_rest")
ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_ATTRIBUTES = 12
MAX_SCALE_STEPS = 10  # the labelling page has one key per scale step (0-9)


class SchemeSettingsError(ValueError):
    """A bad scheme setting; ``field`` names it as a path, e.g. ``attributes[2].high``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    low: float  # lowest value of the scale
    high: float  # highest value; higher is better for pair derivation
    description: str = ""

    def is_integer_scale(self) -> bool:
        return float(self.low).is_integer() and float(self.high).is_integer()


@dataclass(frozen=True, slots=True)
class SchemeSettings:
    attributes: tuple[Attribute, ...]
    ranking_mode: str = "full"
    # best_worst: how many of an item's responses one question shows (0: all of them)
    best_worst_shown: int = 4
    derivation: str = "all"
    # Weights of the attributes in a response's overall score (which the overall pairs of a
    # rating come from); empty: the plain mean of every attribute.
    overall: tuple[tuple[str, float], ...] = (("helpfulness", 1.0),)

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def names(self) -> list[str]:
        return [a.name for a in self.attributes]

    def as_json(self) -> dict[str, Any]:
        return {
            "attributes": [asdict(a) for a in self.attributes],
            "ranking_mode": self.ranking_mode,
            "best_worst_shown": self.best_worst_shown,
            "derivation": self.derivation,
            "overall": dict(self.overall),
        }


# HelpSteer2's five attributes, each 0-4 (Wang et al., 2024). The overall score defaults to
# helpfulness alone: more complexity or verbosity is not better.
HELPSTEER2 = (
    Attribute("helpfulness", 0, 4, "Overall helpfulness of the response to the prompt."),
    Attribute("correctness", 0, 4, "Inclusion of all pertinent facts without errors."),
    Attribute("coherence", 0, 4, "Consistency and clarity of expression."),
    Attribute("complexity", 0, 4, "Intellectual depth needed to write the response."),
    Attribute("verbosity", 0, 4, "Amount of detail relative to what the prompt asks."),
)


def default_scheme_settings() -> dict[str, Any]:
    return SchemeSettings(attributes=HELPSTEER2).as_json()


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SchemeSettingsError(field, "must be a number")
    return float(value)


def _attribute(raw: Any, field: str) -> Attribute:
    if not isinstance(raw, dict):
        raise SchemeSettingsError(field, 'must be an object {"name", "low", "high"}')
    unknown = set(raw) - {"name", "low", "high", "description"}
    if unknown:
        raise SchemeSettingsError(f"{field}.{sorted(unknown)[0]}", "is not a setting")
    name = raw.get("name")
    if not isinstance(name, str) or not ATTRIBUTE_NAME.match(name):
        raise SchemeSettingsError(
            f"{field}.name", "must be 1-40 lowercase letters, digits or _ starting with a letter"
        )
    low = _number(raw.get("low", 0), f"{field}.low")
    high = _number(raw.get("high", 4), f"{field}.high")
    if high <= low:
        raise SchemeSettingsError(f"{field}.high", "must be above low")
    if float(low).is_integer() and float(high).is_integer() and high - low + 1 > MAX_SCALE_STEPS:
        raise SchemeSettingsError(f"{field}.high", f"at most {MAX_SCALE_STEPS} steps on a scale")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SchemeSettingsError(f"{field}.description", "must be text")
    return Attribute(name, low, high, description.strip())


def scheme_settings_parse(raw: Any) -> SchemeSettings:
    """The typed settings of a stored (or submitted) JSON value; missing keys take their
    defaults. Raises SchemeSettingsError naming the bad field."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SchemeSettingsError("scheme_settings", "must be an object")
    unknown = set(raw) - {"attributes", "ranking_mode", "best_worst_shown", "derivation", "overall"}
    if unknown:
        raise SchemeSettingsError(sorted(unknown)[0], "is not a setting")
    raw_attributes = raw.get("attributes")
    attributes: tuple[Attribute, ...]
    if raw_attributes is None:
        attributes = HELPSTEER2
    else:
        if not isinstance(raw_attributes, list) or not raw_attributes:
            raise SchemeSettingsError("attributes", "must be a non-empty list")
        if len(raw_attributes) > MAX_ATTRIBUTES:
            raise SchemeSettingsError("attributes", f"at most {MAX_ATTRIBUTES}")
        attributes = tuple(_attribute(a, f"attributes[{i}]") for i, a in enumerate(raw_attributes))
        seen: set[str] = set()
        for i, attribute in enumerate(attributes):
            if attribute.name in seen:
                raise SchemeSettingsError(f"attributes[{i}].name", "is given twice")
            seen.add(attribute.name)
    ranking_mode = raw.get("ranking_mode", "full")
    if ranking_mode not in RANKING_MODES:
        raise SchemeSettingsError("ranking_mode", f"must be one of {', '.join(RANKING_MODES)}")
    shown = raw.get("best_worst_shown", 4)
    if isinstance(shown, bool) or not isinstance(shown, int) or not (shown == 0 or 3 <= shown <= 9):
        raise SchemeSettingsError("best_worst_shown", "must be 0 (all) or 3 to 9")
    derivation = raw.get("derivation", "all")
    if derivation not in DERIVATIONS:
        raise SchemeSettingsError("derivation", f"must be one of {', '.join(DERIVATIONS)}")
    names = {a.name for a in attributes}
    raw_overall = raw.get("overall")
    if raw_overall is None:
        raw_overall = {"helpfulness": 1.0} if "helpfulness" in names else {}
    if not isinstance(raw_overall, dict):
        raise SchemeSettingsError("overall", "must be an object of attribute weights")
    overall = []
    for name, weight in raw_overall.items():
        if name not in names:
            raise SchemeSettingsError(f"overall.{name}", "is not one of the attributes")
        overall.append((name, _number(weight, f"overall.{name}")))
    if overall and not any(w > 0 for _, w in overall):
        raise SchemeSettingsError("overall", "needs at least one weight above 0")
    return SchemeSettings(
        attributes=attributes,
        ranking_mode=ranking_mode,
        best_worst_shown=shown,
        derivation=derivation,
        overall=tuple(overall),
    )


def labels_items(project: Any) -> bool:
    """Whether the project labels items (a prompt with several responses) rather than pairs:
    every scheme but pairwise does."""
    return bool(project.label_scheme != "pairwise")


def scheme_settings_of(project: Any) -> SchemeSettings:
    """The project's settings (a stored value was validated when it was written)."""
    return scheme_settings_parse(project.scheme_settings)
