"""How the hostile-input battery lays out and imports a file of one of the newer formats
(newer_formats.py lists them): a Format writes good records as units (one record, or for the
formats of one response a row, the two rows of one item), names the text field the hostile
values go into and the field their rejection must name, and imports a file the way PrefLab
does, answering with the same Outcome whichever stage it goes through."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.security.hostile import Stored, run_import, store_pandalm
from webapp.benchmarks.services import benchmark_import
from webapp.imports.models import ImportBatch
from webapp.judges.services import judge_create, verdicts_import
from webapp.projects.models import Project
from webapp.projects.services import project_create

Record = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    errors: list[tuple[str, int, str, str]]  # (file, line, field, reason) of each rejection
    strict_rejected: bool = False  # a strict import refused the whole file
    batch: ImportBatch | None = None  # the import's batch (its report page), where it has one


@dataclass(frozen=True)
class Format:
    name: str
    kind: str  # "import", "verdicts" or "benchmark": the way its files come in
    unit: Callable[[int, str], list[Record]]  # the good records of unit i, texts made with t
    put: Callable[[Record, Any], None]  # put a value into the hostile field of a record
    field: str  # the field a rejection of that value names
    stored: dict[str, int]  # rows one good unit adds (Stored.assert_unchanged's names)
    scheme: str = "pairwise"
    settings: dict[str, Any] | None = None
    fmt: str = "auto"  # for benchmarks: the benchmark format
    mapping: dict[str, str] | None = None
    suffix: str = ".jsonl"
    # put a markup text where the reason of the rejection quotes it (None: no reason does)
    quote: Callable[[Record, str], None] | None = None
    pages: tuple[str, ...] = field(default=())  # of "project", "label", "steps", "report"
    # Every other text a record holds, names of fields and raters included: (put a text into
    # it, the field a rejection names, "{v}" standing for the text put in a name).
    others: tuple[tuple[Callable[[Record, Any], None], str], ...] = ()

    @property
    def benchmark(self) -> str:
        return f"hostile {self.name}"

    @property
    def rows(self) -> int:
        return len(self.unit(0, ""))

    def lines(self, units: range, t: str) -> list[Record]:
        return [record for i in units for record in self.unit(i, t)]

    def run(
        self, project: Any, path: Path, *, strict: bool = False, created_by: Any = None
    ) -> Outcome:
        if self.kind == "verdicts":
            judge = judge_create(project=project, name="hostile judge", source="verdicts")
            summary = verdicts_import(judge=judge, path=path, file_name=path.name)
            return Outcome(_errors(summary["errors"]))
        if self.kind == "benchmark":
            _, summary = benchmark_import(
                name=self.benchmark, path=path, file_name=path.name, fmt=self.fmt,
                created_by=created_by,
            )  # fmt: skip
            return Outcome(_errors(summary["errors"]))
        batch = run_import(
            project, path, fmt=self.fmt, mapping=self.mapping, strict=strict, created_by=created_by
        )
        assert batch.status != ImportBatch.Status.FAILED, batch.error
        rejected = batch.status == ImportBatch.Status.REJECTED
        return Outcome(_errors(batch.errors), strict_rejected=rejected, batch=batch)


def _errors(errors: list[dict[str, Any]]) -> list[tuple[str, int, str, str]]:
    return [(e["file"], e["line"], e["field"], e["reason"]) for e in errors]


def write(path: Path, records: list[Record | bytes | str]) -> Path:
    """One record a line: a dict as JSON, a str or bytes as they are."""
    lines = [r if isinstance(r, bytes) else (r if isinstance(r, str) else json.dumps(r)).encode()
             for r in records]  # fmt: skip
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def hostile(record: Record, fmt: Format, value: Any) -> Record:
    out = copy.deepcopy(record)
    fmt.put(out, value)
    return out


def set_at(*keys: str | int) -> Callable[[Record, Any], None]:
    def put(record: Record, value: Any) -> None:
        target: Any = record
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return put


def key_with(*keys: str | int, name: str, value: Any = 1) -> Callable[[Record, Any], None]:
    """Put the text into the name of a field (under ``keys``): ``{name}{text}``."""

    def put(record: Record, text: Any) -> None:
        target: Any = record
        for key in keys:
            target = target[key]
        target[f"{name}{text}"] = value

    return put


def rater_with(key: str, values: list[Any]) -> Callable[[Record, Any], None]:
    """Make the text part of the name of the rater of ``key``'s list."""

    def put(record: Record, text: Any) -> None:
        record[key] = {f"rater{text}": values}

    return put


NOTE = (key_with(name="note"), "note{v}")  # a field the format does not know: kept as metadata


def project_for(fmt: Format, admin: Any) -> Project:
    """A project of the format's label scheme, with ``admin`` its admin."""
    settings = {"scheme_settings": fmt.settings} if fmt.settings else {}
    return project_create(
        name=f"hostile {fmt.name}", label_scheme=fmt.scheme, created_by=admin, **settings
    )


def stored_for(fmt: Format, tmp_path: Path, admin: Any) -> Stored:
    """A project holding data of the format already: four good units of it (verdicts: on
    Stored's PandaLM pairs; a benchmark: in the benchmark that the file then goes to)."""
    project = project_for(fmt, admin)

    def seed() -> None:
        if fmt.kind != "import":
            store_pandalm(project, tmp_path)
        units = range(10, 14) if fmt.kind == "verdicts" else range(100, 104)
        path = write(tmp_path / f"seed{fmt.suffix}", fmt.lines(units, "stored"))
        assert fmt.run(project, path, created_by=admin).errors == []

    return Stored(project, tmp_path, seed=seed)
