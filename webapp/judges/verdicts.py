"""Files of judge verdicts: one record per pair (and per order it was asked in), read with the
import stage's containers (JSON Lines, a JSON array, CSV, Parquet; .gz), so a verdict file
fails the way a pairs file does: each bad record on its own line, its field named.

Fields, found by name: the pair's key (``pair_id`` for PrefLab's ids; ``external_id``,
``id`` or ``idx`` for the ids the pairs were imported with), the verdict (``verdict``,
``winner``, ``label`` or any ``*_result``), an optional reason (``reason`` or ``*_reason``)
and an optional position (``position``: ``ab`` when response A was shown first, ``ba`` when B
was; ``ab`` where not given). Pure Python, no Django.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webapp.imports.containers import RecordError, Source
from webapp.imports.fields import MAX_ID, Bad, check_text, short, show, text

KEY_FIELDS = ("pair_id", "external_id", "id", "idx")
VERDICT_FIELDS = ("verdict", "winner", "label")
_SAME = {"a": "a", "1": "a", "A": "a", "A>B": "a", "b": "b", "2": "b", "B": "b", "B>A": "b"}
_SAME |= {"tie": "tie", "Tie": "tie", "TIE": "tie", "0": "tie", "A=B": "tie", "both_bad": "tie"}
_SIDES = {"left", "Left", "first", "right", "Right", "second"}


@dataclass(frozen=True, slots=True)
class Verdict:
    line: int
    key: str  # the value of the key field, as text
    choice: str  # "a" | "b" | "tie", about the pair's responses
    position: str  # "ab" | "ba": which response the judge saw first
    reason: str


def _field(record: dict[str, Any], names: tuple[str, ...], suffix: str) -> str | None:
    for name in names:
        if name in record:
            return name
    return next((k for k in record if k.endswith(suffix)), None)


def choice_of(value: Any, position: str, field: str) -> str:
    """A verdict value as "a" / "b" / "tie" about the pair's responses. "left" / "right" are
    screen sides, turned into responses through the position."""
    raw = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
    )
    if raw in _SAME:
        return _SAME[raw]
    if raw in _SIDES:
        first = raw.lower() in ("left", "first")
        return ("a" if first else "b") if position == "ab" else ("b" if first else "a")
    raise Bad(
        field, f"expected a verdict (a, b, tie, 1, 2, 0, A>B, left, right...), got {show(value)}"
    )


def parse_verdict(line: int, record: dict[str, Any], key_field: str | None) -> Verdict:
    key = key_field or _field(record, KEY_FIELDS, "\0")
    if key is None or key not in record:
        raise Bad(key or "pair_id", "the pair's key is missing (pair_id, external_id, id or idx)")
    raw_key = record[key]
    if not isinstance(raw_key, str | int) or isinstance(raw_key, bool) or str(raw_key) == "":
        raise Bad(key, f"expected a pair id, got {show(raw_key)}")
    position = record.get("position") or "ab"
    if position not in ("ab", "ba"):
        raise Bad("position", f"expected ab (A shown first) or ba, got {show(position)}")
    verdict = _field(record, VERDICT_FIELDS, "_result")
    if verdict is None:
        raise Bad("verdict", "the verdict is missing (verdict, winner, label or *_result)")
    reason_field = _field(record, ("reason",), "_reason")
    return Verdict(
        line=line,
        # the ids pairs are imported with are as long as MAX_ID, and checked as their texts are
        key=short(check_text(str(raw_key), key), key, MAX_ID),
        choice=choice_of(record[verdict], position, verdict),
        position=position,
        reason=text(record.get(reason_field), reason_field, required=False) if reason_field else "",
    )


def read_verdicts(
    path: Path, *, name: str, key_field: str | None = None
) -> Generator[Verdict | RecordError]:
    """Each record of the file as a Verdict, or a RecordError naming its line and field."""
    for item in Source(path, name).records():
        if isinstance(item, RecordError):
            yield item
            continue
        line, record = item
        try:
            yield parse_verdict(line, record, key_field)
        except Bad as exc:
            yield RecordError(name, line, exc.field, exc.reason)
