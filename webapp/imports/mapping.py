"""The `mapping` format: any JSONL, CSV or Parquet columns, named by the caller.

Pure Python, no Django (see formats.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.imports.containers import FormatError, kind_of
from webapp.imports.fields import (
    MAX_MODEL,
    MAX_SPLIT,
    Bad,
    ParsedPair,
    get,
    ident,
    metadata,
    prompt_of,
    response_of,
    short,
    show,
)

_TARGETS: tuple[str, ...] = (
    "prompt",
    "chosen",
    "rejected",
    "response_a",
    "response_b",
    "label",
    "label_a",
)
_TARGETS += ("label_b", "label_tie", "id", "split", "model_a", "model_b")
_LIMITS = {"split": MAX_SPLIT, "model_a": MAX_MODEL, "model_b": MAX_MODEL}
_DEFAULT_LABELS = dict.fromkeys(("a", "A", "1"), "a") | dict.fromkeys(("b", "B", "2"), "b")
_DEFAULT_LABELS |= dict.fromkeys(("tie", "0"), "tie")


@dataclass(frozen=True, slots=True)
class Mapping:
    """{target: source column}: prompt + chosen + rejected (label "a"), or prompt + response_a +
    response_b (+ label); optional id, split, model_a, model_b. label_a, label_b and label_tie give
    the raw label values meaning each; given any, only those count."""

    columns: dict[str, str]
    labels: dict[str, str]  # raw label value -> "a" | "b" | "tie"
    used: frozenset[str]  # the mapped columns; the others go to metadata

    @classmethod
    def build(cls, mapping: dict[str, str], name: str) -> Mapping:
        def fail(problem: str) -> FormatError:
            return FormatError(f"{name}: bad column mapping: {problem}")

        if not isinstance(mapping, dict):
            raise fail(f"expected {{target: column}}, got {kind_of(mapping)}")
        unknown = [t for t in mapping if t not in _TARGETS]
        if unknown:
            raise fail(
                f"unknown target(s) {', '.join(map(show, unknown))}; use {', '.join(_TARGETS)}"
            )
        empty = [t for t, c in mapping.items() if type(c) is not str or not c]
        if empty:
            raise fail(f"{', '.join(empty)} must name a column")
        pairwise = {"chosen", "rejected"} & mapping.keys()
        if pairwise and {"response_a", "response_b", "label"} & mapping.keys():
            raise fail("map chosen/rejected or response_a/response_b/label, not both")
        needs = (
            ("prompt", "chosen", "rejected") if pairwise else ("prompt", "response_a", "response_b")
        )
        missing = [t for t in needs if t not in mapping]
        if missing:
            raise fail(f"{', '.join(missing)} missing")
        given = {mapping[f"label_{v}"]: v for v in ("a", "b", "tie") if f"label_{v}" in mapping}
        if given and "label" not in mapping:
            raise fail("label_a/label_b/label_tie need a label column")
        if len(given) < sum(f"label_{v}" in mapping for v in ("a", "b", "tie")):
            raise fail("label_a, label_b and label_tie must be different values")
        columns = {t: c for t, c in mapping.items() if not t.startswith("label_")}
        return cls(columns, given or _DEFAULT_LABELS, frozenset(columns.values()))

    def check_columns(self, columns: list[str], name: str) -> None:
        missing = sorted(set(self.columns.values()) - set(columns))
        if missing:
            have = ", ".join(columns[:30]) + (", ..." if len(columns) > 30 else "")
            raise FormatError(
                f"{name}: the mapping names column(s) {', '.join(missing)} that the file does not "
                f"have (it has: {have})"
            )

    def parse(self, line: int, record: dict[str, Any]) -> ParsedPair:
        columns = self.columns

        def optional(target: str) -> str:
            column = columns.get(target)
            if not column:
                return ""
            value = ident(record.get(column), column)
            return short(value, column, _LIMITS[target]) if target in _LIMITS else value

        column = columns["prompt"]
        prompt = prompt_of(get(record, column), column)
        a, b = (
            columns.get("chosen") or columns["response_a"],
            columns.get("rejected") or columns["response_b"],
        )
        label = "a" if "chosen" in columns else self._label(record, columns.get("label"))
        return ParsedPair(
            line,
            prompt,
            response_of(get(record, a), a),
            response_of(get(record, b), b),
            label,
            external_id=optional("id"),
            split=optional("split"),
            model_a=optional("model_a"),
            model_b=optional("model_b"),
            metadata=metadata(record, self.used),
        )

    def _label(self, record: dict[str, Any], column: str | None) -> str:
        value = record.get(column) if column else None
        if type(value) is float and value.is_integer():
            value = int(value)
        if value is not None and type(value) not in (str, int):
            raise Bad(column or "", f"expected a label, got {kind_of(value)}")
        raw = "" if value is None else str(value).strip()
        if raw and raw not in self.labels:
            known = ", ".join(map(repr, self.labels))
            raise Bad(column or "", f"unknown label {show(raw)}; expected one of {known}")
        return self.labels[raw] if raw else ""
