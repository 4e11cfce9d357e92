"""A flag's details as a person reads them: named figures, rounded, in a fixed order.

Producers store details as JSON (the ensemble: mu and sigma; the contrast check: its partner
pair, the prompts' similarity and the three rewards it compared). Pages show them through
``details_shown``, never as the raw mapping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# key: (name shown, decimals). In this order; other keys follow in theirs.
KNOWN: dict[str, tuple[str, int]] = {
    "mu": ("mu", 3),
    "sigma": ("sigma", 3),
    "partner_pair": ("partner pair", 0),
    "similarity": ("similarity", 2),
    "own": ("reward of its own answer", 3),
    "other_response": ("reward of the similar prompt's answer", 3),
    "other_prompt": ("reward of its answer under the similar prompt", 3),
}
# Already said by the flag's kind.
HIDDEN = {"check"}
LONGEST = 120  # characters of any other value


@dataclass(frozen=True)
class Detail:
    name: str
    value: str
    pair_id: int | None = None  # a pair the detail names, for a link


def _number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}" if decimals else f"{value:g}"


def _value(value: Any, decimals: int) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value, decimals)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


def details_shown(details: Any) -> list[Detail]:
    """The details of a flag as named, rounded figures (three decimals unless known)."""
    if not isinstance(details, dict):
        return [] if details in (None, "") else [Detail("details", _value(details, 3))]
    keys = [k for k in KNOWN if k in details]
    keys += [k for k in details if k not in KNOWN and k not in HIDDEN]
    shown = []
    for key in keys:
        value = details[key]
        name, decimals = KNOWN.get(key, (str(key).replace("_", " "), 3))
        if key == "partner_pair" and isinstance(value, int) and not isinstance(value, bool):
            shown.append(Detail(name, f"#{value}", pair_id=value))
        else:
            shown.append(Detail(name, _value(value, decimals)))
    return shown
