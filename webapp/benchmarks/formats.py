"""Benchmark files, turned into the pairs PrefLab imports: one normalised record per pair
(``prompt``, ``response_a``, ``response_b``, ``label``, ``id``, ``category``, and for RM-Bench
the ``item`` and the two responses' ``chosen_style`` / ``rejected_style``), read with the
import stage's containers so a bad record is reported with its file, line and field.

Formats:
  rewardbench  ``prompt``, ``chosen``, ``rejected``, ``subset`` (the category), optional ``id``
  judgebench   ``question``, ``response_A``, ``response_B``, ``label`` ("A>B" / "B>A"),
               ``source`` (the category), ``pair_id``
  rmbench      ``id``, ``prompt``, ``subset``, ``chosen`` and ``rejected``: three style variants
               each; nine pairs per record (every chosen variant against every rejected one).
               Its category is the domain in the file's name (rm-bench-chat.json: chat;
               safety-refuse and safety-response are both safety), else the subset
  mapping      any columns, named as {"prompt", "chosen", "rejected", "category", "id"}

Where a benchmark puts the better response first (RewardBench, RM-Bench), each pair's
responses are swapped when a hash of its id says so, half the time: an "always A" judge then
scores about 0.5, as it should. JudgeBench keeps its own order. Pure Python, no Django.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webapp.imports.containers import RecordError, Source
from webapp.imports.fields import MAX_ID, Bad, check_text, get, prompt_of, response_of, short, show

FORMATS = ("rewardbench", "judgebench", "rmbench", "mapping")
_MAPPING_TARGETS = ("prompt", "chosen", "rejected", "category", "id")


@dataclass
class BenchmarkPair:
    line: int
    prompt: Any
    response_a: str
    response_b: str
    label: str  # "a" | "b": the better response
    category: str
    key: str
    extra: dict[str, Any] = field(default_factory=dict)
    # the file always puts the better response first: swap half the pairs, by the id's hash
    swappable: bool = True

    def record(self) -> dict[str, Any]:
        digest = hashlib.blake2b(self.key.encode(), digest_size=1).digest()[0]
        swap = self.swappable and digest % 2 == 1
        a, b = (self.response_b, self.response_a) if swap else (self.response_a, self.response_b)
        label = {"a": "b", "b": "a"}[self.label] if swap else self.label
        return {
            "prompt": self.prompt,
            "response_a": a,
            "response_b": b,
            "label": label,
            "id": self.key,
            "category": self.category,
            "source_line": self.line,
        } | self.extra


# Everything a BenchmarkPair holds is checked here as the importer checks it, so the pairs of a
# record the import then stores are all of them or none (RM-Bench: nine a record).


def _category(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Bad(name, f"expected the category as a non-empty text, got {show(value)}")
    return check_text(value.strip()[:100], name)


def _key(record: dict[str, Any], name: str, line: int) -> str:
    """The record's id, or its line; at most MAX_ID - 3 long, so RM-Bench's ':ij' fits."""
    value = record.get(name)
    if not isinstance(value, str | int) or isinstance(value, bool):
        return str(line)
    return short(check_text(str(value), name), name, MAX_ID - 3)


def _rewardbench(line: int, record: dict[str, Any], _: dict[str, Any]) -> list[BenchmarkPair]:
    return [
        BenchmarkPair(
            line,
            prompt_of(get(record, "prompt"), "prompt"),
            response_of(get(record, "chosen"), "chosen"),
            response_of(get(record, "rejected"), "rejected"),
            "a",
            _category(get(record, "subset"), "subset"),
            _key(record, "id", line),
        )
    ]


def _judgebench(line: int, record: dict[str, Any], _: dict[str, Any]) -> list[BenchmarkPair]:
    label = get(record, "label")
    if label not in ("A>B", "B>A"):
        raise Bad("label", f"expected A>B or B>A, got {show(label)}")
    return [
        BenchmarkPair(
            line,
            prompt_of(get(record, "question"), "question"),
            response_of(get(record, "response_A"), "response_A"),
            response_of(get(record, "response_B"), "response_B"),
            "a" if label == "A>B" else "b",
            _category(get(record, "source"), "source"),
            _key(record, "pair_id", line),
            swappable=False,  # JudgeBench chose its own order
        )
    ]


def _rmbench(line: int, record: dict[str, Any], options: dict[str, Any]) -> list[BenchmarkPair]:
    prompt = prompt_of(get(record, "prompt"), "prompt")
    variants = {}
    for side in ("chosen", "rejected"):
        values = get(record, side)
        if not isinstance(values, list) or len(values) != 3:
            raise Bad(side, f"expected a list of three style variants, got {show(values)}")
        variants[side] = [response_of(v, f"{side}[{i}]") for i, v in enumerate(values)]
    category = options.get("category") or _category(get(record, "subset"), "subset")
    key = _key(record, "id", line)
    subset = record.get("subset")
    subset = check_text(subset, "subset") if isinstance(subset, str) else ""
    return [
        BenchmarkPair(
            line,
            prompt,
            variants["chosen"][i],
            variants["rejected"][j],
            "a",
            category,
            f"{key}:{i}{j}",
            extra={
                "item": key,
                "chosen_style": i,
                "rejected_style": j,
                "subset": subset,
            },
        )
        for i in range(3)
        for j in range(3)
    ]


def _mapping(line: int, record: dict[str, Any], options: dict[str, Any]) -> list[BenchmarkPair]:
    columns = options["mapping"]
    category = columns.get("category")
    return [
        BenchmarkPair(
            line,
            prompt_of(get(record, columns["prompt"]), columns["prompt"]),
            response_of(get(record, columns["chosen"]), columns["chosen"]),
            response_of(get(record, columns["rejected"]), columns["rejected"]),
            "a",
            _category(get(record, category), category) if category else "all",
            _key(record, columns.get("id", "id"), line),
        )
    ]


_READERS = {
    "rewardbench": _rewardbench,
    "judgebench": _judgebench,
    "rmbench": _rmbench,
    "mapping": _mapping,
}


def check_mapping(mapping: Any) -> dict[str, str]:
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise ValueError(
            'a benchmark mapping is {"prompt": column, "chosen": ..., "rejected": ...}'
        )
    unknown = sorted(set(mapping) - set(_MAPPING_TARGETS))
    if unknown:
        raise ValueError(
            f"unknown mapping targets {unknown}; expected {', '.join(_MAPPING_TARGETS)}"
        )
    missing = [t for t in ("prompt", "chosen", "rejected") if t not in mapping]
    if missing:
        raise ValueError(f"the mapping names no column for {', '.join(missing)}")
    return mapping


def rmbench_domain(file_name: str) -> str:
    """RM-Bench's domain from its file's name: rm-bench-safety-refuse.json -> safety."""
    match = re.match(r"rm-bench-([a-z]+)", Path(file_name).name)
    return match.group(1) if match else ""


def read_benchmark(
    path: Path, *, name: str, fmt: str, mapping: dict[str, str] | None = None
) -> Generator[BenchmarkPair | RecordError]:
    """Each pair of a benchmark file, or a RecordError naming the line and field at fault."""
    if fmt not in _READERS:
        raise ValueError(f"unknown benchmark format {fmt!r}; expected {', '.join(FORMATS)}")
    options: dict[str, Any] = {}
    if fmt == "mapping":
        options["mapping"] = check_mapping(mapping)
    if fmt == "rmbench":
        options["category"] = rmbench_domain(name)
    reader = _READERS[fmt]
    for item in Source(path, name).records():
        if isinstance(item, RecordError):
            yield item
            continue
        line, record = item
        try:
            yield from reader(line, record, options)
        except Bad as exc:
            yield RecordError(name, line, exc.field, exc.reason)
