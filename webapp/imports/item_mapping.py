"""The `mapping` format for items: any columns of one-response-a-row files, named by the caller.

``{target: column}`` with targets ``prompt`` and ``response`` (required); ``group`` (rows with
the same value make one item; default: the same prompt), ``model``, ``id``, ``split``;
and the answers: ``ratings`` (a column holding ``{attribute: value}``), ``rating.<attribute>``
(a number column per attribute), ``score`` (a number, or a list of numbers, one rater each:
attribute "score") and ``rank`` (1 best). A mapping with ``response`` is an item mapping; one
with ``chosen`` / ``response_a`` is a pair mapping (mapping.py). Pure Python, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.imports.containers import FormatError, kind_of
from webapp.imports.fields import (
    Bad,
    get,
    ident,
    metadata,
    model_of,
    prompt_of,
    response_of,
    show,
    split_of,
)
from webapp.imports.listwise import ParsedResponse, ParsedRow, number

TARGETS = ("prompt", "response", "group", "model", "id", "split", "ratings", "score", "rank")


def is_item_mapping(mapping: Any) -> bool:
    return isinstance(mapping, dict) and "response" in mapping


@dataclass(frozen=True, slots=True)
class ItemMapping:
    columns: dict[str, str]
    used: frozenset[str]

    @classmethod
    def build(cls, mapping: dict[str, str], name: str) -> ItemMapping:
        def fail(problem: str) -> FormatError:
            return FormatError(f"{name}: bad column mapping: {problem}")

        unknown = [t for t in mapping if t not in TARGETS and not t.startswith("rating.")]
        if unknown:
            names = ", ".join(map(show, unknown))
            raise fail(f"unknown target(s) {names}; use {', '.join(TARGETS)} or rating.<attribute>")
        empty = [t for t, c in mapping.items() if type(c) is not str or not c]
        if empty:
            raise fail(f"{', '.join(empty)} must name a column")
        missing = [t for t in ("prompt", "response") if t not in mapping]
        if missing:
            raise fail(f"{', '.join(missing)} missing")
        if not any(t in mapping for t in ("ratings", "score", "rank")) and not any(
            t.startswith("rating.") for t in mapping
        ):
            raise fail("no answers mapped: give ratings, rating.<attribute>, score or rank")
        return cls(dict(mapping), frozenset(mapping.values()))

    def check_columns(self, columns: list[str], name: str) -> None:
        missing = sorted(set(self.columns.values()) - set(columns))
        if missing:
            raise FormatError(
                f"{name}: the mapping names column(s) {', '.join(missing)} that the file does not "
                f"have (it has: {', '.join(columns[:30])})"
            )

    def group_of(self, record: dict[str, Any]) -> str:
        """A row's group: its group column, else its prompt."""
        group_column = self.columns.get("group")
        if group_column:
            return ident(get(record, group_column), group_column)
        return repr(prompt_of(get(record, self.columns["prompt"]), self.columns["prompt"]))

    def parse(self, line: int, record: dict[str, Any]) -> ParsedRow:
        columns = self.columns
        prompt = prompt_of(get(record, columns["prompt"]), columns["prompt"])
        group = self.group_of(record)
        model_column = columns.get("model")
        response = ParsedResponse(
            response_of(get(record, columns["response"]), columns["response"]),
            model_of(record.get(model_column), model_column) if model_column else "",
            metadata(record, self.used),
        )
        values: dict[str, float] = {}
        if "ratings" in columns:
            column = columns["ratings"]
            raw = get(record, column)
            if type(raw) is not dict:
                raise Bad(column, f"expected an object of attribute ratings, got {kind_of(raw)}")
            values |= {str(k): number(v, f"{column}.{k}") for k, v in raw.items()}
        for target, column in columns.items():
            if target.startswith("rating."):
                values[target.removeprefix("rating.")] = number(get(record, column), column)
        scores = {"imported": values} if values else {}
        if "score" in columns:
            column = columns["score"]
            raw = get(record, column)
            runs = raw if type(raw) is list else [raw]
            for k, value in enumerate(runs):
                where = f"{column}[{k}]" if type(raw) is list else column
                scores[f"{column}-{k + 1}" if type(raw) is list else column] = {
                    "score": number(value, where)
                }
        ranks = {}
        if "rank" in columns:
            column = columns["rank"]
            rank = number(get(record, column), column)
            if not rank.is_integer() or rank < 1:
                raise Bad(column, f"a rank is a whole number from 1, got {show(record[column])}")
            ranks[column] = int(rank)
        split_column, id_column = columns.get("split"), columns.get("id")
        return ParsedRow(
            line,
            group,
            prompt,
            response,
            external_id=ident(record.get(id_column), id_column) if id_column else "",
            split=split_of(record.get(split_column), split_column) if split_column else "",
            scores=scores,
            ranks=ranks,
        )
