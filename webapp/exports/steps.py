"""Step exports: the `steps` scheme's case of an export snapshot.

Two layouts, both loadable by ``datasets``:

- **stepwise supervision** (the layout of the public PRM800K and Math-Shepherd conversions and
  of TRL's PRM trainer): ``prompt``, ``completions`` (the steps) and ``labels`` (one boolean
  per step, True = right). Standard (text) or conversational (``prompt`` a list of messages,
  each step one assistant message). A solution is cut after its first wrong step: what follows
  a wrong step has no label (module doc of workers/rm/steps.py), and a trainer must not read
  it as right. A neutral step (0) counts as right, as PRM800K's own PRM counts it.
- **first error** (ProcessBench's layout): ``id``, ``generator``, ``problem``, ``steps`` (all of
  them), ``final_answer_correct`` and ``label``, the 0-based first wrong step or -1.

Both carry PrefLab's own columns after the layout's: ``item_id``, ``split``, ``label_source``,
``confidence`` and the step model's ``p_correct`` where a scoring run has scored the steps.
Pure functions over StepSolution rows; the selector that builds them reads the database.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from webapp.exports.writers import MESSAGES, JsonlWriter, ParquetWriter, WrittenFile
from webapp.pairs.steps import first_error_of

Layout = Literal["stepwise", "first_error"]
Style = Literal["standard", "conversational"]


@dataclass(frozen=True)
class StepSolution:
    item_id: int
    problem: str
    steps: list[str]
    # Per step, the effective label: +1 right, 0 neutral, -1 wrong, None unknown.
    labels: list[int | None]
    split: str = "train"
    external_id: str = ""
    model: str = ""
    final_answer_correct: bool | None = None
    label_source: str = ""  # "review", "dawid_skene", "majority", "imported"...
    confidence: float | None = None
    p_correct: list[float] | None = None  # the step model's, per step
    flags: list[str] = field(default_factory=list)


def stepwise_record(solution: StepSolution, *, style: Style) -> dict[str, Any] | None:
    """One row of the stepwise layout, or None when not even the first step has a label."""
    known: list[bool] = []
    for label in solution.labels:
        if label is None:
            break
        known.append(label != -1)
        if label == -1:
            break
    if not known:
        return None
    steps = solution.steps[: len(known)]
    row: dict[str, Any]
    if style == "conversational":
        row = {
            "prompt": [{"role": "user", "content": solution.problem}],
            "completions": [{"role": "assistant", "content": s} for s in steps],
        }
    else:
        row = {"prompt": solution.problem, "completions": steps}
    row["labels"] = known
    return row | _own_columns(solution, len(known))


def first_error_record(solution: StepSolution) -> dict[str, Any] | None:
    """One row of the first-error layout, or None when the first error is unknown."""
    label = first_error_of(solution.labels)
    if label is None:
        return None
    row = {
        "id": solution.external_id or str(solution.item_id),
        "generator": solution.model,
        "problem": solution.problem,
        "steps": solution.steps,
        "final_answer_correct": solution.final_answer_correct,
        "label": label,
    }
    return row | _own_columns(solution, len(solution.steps))


def _own_columns(solution: StepSolution, n_steps: int) -> dict[str, Any]:
    p = solution.p_correct
    return {
        "item_id": solution.item_id,
        "split": solution.split,
        "label_source": solution.label_source,
        "confidence": solution.confidence,
        "p_correct": [round(float(v), 6) for v in p[:n_steps]] if p is not None else None,
        "flags": solution.flags or None,
    }


def step_schema(*, layout: Layout, style: Style) -> pa.Schema:
    """Parquet columns, in the order the JSON rows have them."""
    own: list[tuple[str, pa.DataType]] = [
        ("item_id", pa.int64()),
        ("split", pa.string()),
        ("label_source", pa.string()),
        ("confidence", pa.float64()),
        ("p_correct", pa.list_(pa.float64())),
        ("flags", pa.list_(pa.string())),
    ]
    if layout == "first_error":
        fields: list[tuple[str, pa.DataType]] = [
            ("id", pa.string()),
            ("generator", pa.string()),
            ("problem", pa.string()),
            ("steps", pa.list_(pa.string())),
            ("final_answer_correct", pa.bool_()),
            ("label", pa.int64()),
        ]
    else:
        text = MESSAGES if style == "conversational" else pa.string()
        listed = MESSAGES if style == "conversational" else pa.list_(pa.string())
        fields = [("prompt", text), ("completions", listed), ("labels", pa.list_(pa.bool_()))]
    return pa.schema(fields + own)


def write_step_split(
    rows: Iterable[dict[str, Any]], *, path: Path, file_format: str, schema: pa.Schema
) -> WrittenFile:
    """One split's file, through the same writers as pair exports (and so the same hashing)."""
    writer: JsonlWriter | ParquetWriter
    if file_format == "parquet":
        writer = ParquetWriter(path, schema=schema)
    else:
        writer = JsonlWriter(path, gzip_level=6 if file_format == "jsonl.gz" else None)
    block: list[bytes] = []
    for row in rows:
        block.append(json.dumps(row, ensure_ascii=False).encode() + b"\n")
        if len(block) >= 1000:
            writer.write(b"".join(block))
            block = []
    if block:
        writer.write(b"".join(block))
    return writer.close()


_COLUMNS = {
    "stepwise": {
        "prompt": "the problem (conversational: one user message)",
        "completions": "the solution's steps up to and including its first wrong one "
        "(conversational: one assistant message each)",
        "labels": "one boolean per step: true = right (a neutral step counts as right)",
    },
    "first_error": {
        "id": "the solution's id in the imported file, else PrefLab's item id",
        "generator": "the model that wrote the solution, where known",
        "problem": "the problem",
        "steps": "every step of the solution",
        "final_answer_correct": "whether the final answer is right, where known",
        "label": "the 0-based index of the first wrong step, -1 when every step is right",
    },
}
_OWN = {
    "item_id": "the solution's id in PrefLab",
    "split": "its split in PrefLab",
    "label_source": "where the step labels come from: `review` (a reviewer's decision), "
    "`dawid_skene` or `majority` (the annotators' aggregate) or `imported`",
    "confidence": "the aggregate's confidence in the labels (lowest over the steps); null for "
    "imported and reviewed labels",
    "p_correct": "the step model's out-of-fold P(step correct) per step; null if not scored",
    "flags": "names of the flags raised on the solution; null if none",
}


def step_card(
    *,
    project: str,
    version: int,
    layout: Layout,
    style: Style,
    file_format: str,
    files: Sequence[tuple[str, str, int, str]],  # (name, hf split, rows, sha256)
    left_out: dict[str, int],
) -> str:
    """The README.md of a step export; names from users are HTML-escaped."""

    def e(value: object) -> str:
        return html.escape(str(value), quote=False)

    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for name, split, _, _ in files:
        lines += [f"  - split: {split}", f"    path: {name}"]
    lines += ["tags:", "- process-reward-modeling", "- stepwise-supervision", "- preflab", "---"]
    total = sum(rows for _, _, rows, _ in files)
    loader = "parquet" if file_format == "parquet" else "json"
    data_files = ", ".join(f'"{split}": "{name}"' for name, split, _, _ in files)
    what = (
        f"TRL's stepwise supervision layout ({e(style)})"
        if layout == "stepwise"
        else "ProcessBench's first-error layout"
    )
    lines += [
        "",
        f"# {e(project)}: step labels, export v{version}",
        "",
        f"{total} solutions as {e(file_format)} in {what}.",
        "",
        "| file | split | rows | SHA-256 |",
        "|---|---|---:|---|",
        *(f"| {name} | {e(split)} | {rows} | `{sha}` |" for name, split, rows, sha in files),
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'dataset = load_dataset("{loader}", data_files={{{data_files}}})',
        "```",
        "",
        "## Left out",
        "",
    ]
    lines += [f"- {e(reason)}: {count}" for reason, count in left_out.items() if count]
    if not any(left_out.values()):
        lines.append("- nothing: every solution had labels to export")
    lines += ["", "## Columns", "", "| column | meaning |", "|---|---|"]
    for name, meaning in (_COLUMNS[layout] | _OWN).items():
        lines.append(f"| `{name}` | {meaning} |")
    lines.append("")
    return "\n".join(lines)
