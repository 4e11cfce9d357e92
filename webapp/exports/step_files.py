"""A steps project's export snapshot: its solutions with their effective step labels
(webapp/labelling/step_labels.py), the step model's latest P(correct) and flags, one file per
split in the layout the snapshot asks for (``filters["layout"]``: ``stepwise``, the default,
or ``first_error``), and the dataset card. export_write calls this for steps projects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from webapp.exports.models import ExportSnapshot
from webapp.exports.snapshots import split_file_stem
from webapp.exports.steps import (
    StepSolution,
    first_error_record,
    step_card,
    step_schema,
    stepwise_record,
    write_step_split,
)
from webapp.flags.models import Flag
from webapp.labelling.step_labels import step_items, step_labels
from webapp.projects.models import Project
from webapp.scoring.models import ScoringRun, StepScore

Progress = Callable[[int, int, str], None]


def step_solutions(*, project: Project) -> list[StepSolution]:
    """Every solution of the project with its effective labels, the latest complete step
    run's P(correct) and that run's flags."""
    items = step_items(project=project)
    labels = step_labels(project=project, n_steps={i.item_id: len(i.steps) for i in items})
    run = ScoringRun.objects.filter(project=project, complete=True).order_by("-finished_at").first()
    p_correct: dict[int, list[float]] = {}
    flags: dict[int, list[str]] = defaultdict(list)
    if run is not None:
        p_correct = dict(StepScore.objects.filter(run=run).values_list("item_id", "p_correct"))
        for item_id, kind in Flag.objects.filter(scoring_run=run, item__isnull=False).values_list(
            "item_id", "kind"
        ):
            flags[item_id].append(kind)
    out = []
    for item in items:
        label = labels.get(item.item_id)
        out.append(
            StepSolution(
                item_id=item.item_id,
                problem=item.problem,
                steps=item.steps,
                labels=label.labels if label else [None] * len(item.steps),
                split=item.split,
                external_id=item.external_id,
                model=item.model,
                final_answer_correct=item.final_answer_correct,
                label_source=label.source if label else "none",
                confidence=label.confidence if label else None,
                p_correct=p_correct.get(item.item_id),
                flags=sorted(set(flags.get(item.item_id, []))),
            )
        )
    return out


def step_files_write(
    *, snapshot: ExportSnapshot, work: Path, progress: Progress | None
) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """The snapshot's split files in ``work``, its counts and its dataset card."""
    layout = (snapshot.filters or {}).get("layout", "stepwise")
    style: Any = snapshot.style
    only_split = (snapshot.filters or {}).get("split") or ""
    drop_flagged = bool((snapshot.filters or {}).get("drop_flagged"))
    by_split: dict[str, list[dict[str, Any]]] = defaultdict(list)
    left_out = {"no step labelled": 0, "flagged (filter: drop flagged)": 0}
    for solution in step_solutions(project=snapshot.project):
        if only_split and solution.split != only_split:
            continue
        if drop_flagged and solution.flags:
            left_out["flagged (filter: drop flagged)"] += 1
            continue
        row = (
            first_error_record(solution)
            if layout == "first_error"
            else stepwise_record(solution, style=style)
        )
        if row is None:
            left_out["no step labelled"] += 1
            continue
        by_split[solution.split].append(row)
    schema = step_schema(layout=layout, style=style)
    files: list[dict[str, Any]] = []
    card_files: list[tuple[str, str, int, str]] = []
    taken = {"README"}
    total = sum(len(rows) for rows in by_split.values())
    for split, rows in sorted(by_split.items()):
        stem = split_file_stem(split, taken)
        written = write_step_split(
            rows,
            path=work / f"{stem}.{snapshot.file_format}",
            file_format=snapshot.file_format,
            schema=schema,
        )
        files.append(
            {
                "name": written.name,
                "split": split,
                "hf_split": stem,
                "rows": written.rows,
                "bytes": written.bytes,
                "sha256": written.sha256,
            }
        )
        card_files.append((written.name, stem, written.rows, written.sha256))
        if progress:
            done = sum(int(f["rows"]) for f in files)
            progress(done, total, f"{split}: {written.rows} solutions")
    card = step_card(
        project=snapshot.project.name,
        version=snapshot.version,
        layout=layout,
        style=style,
        file_format=snapshot.file_format,
        files=card_files,
        left_out=left_out,
    )
    counts = {
        "splits": {s: {"exported": len(r)} for s, r in by_split.items()},
        "left_out": left_out,
    }
    return files, counts, card
