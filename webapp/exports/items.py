"""The files an export of an item project adds beside its derived pairs: the ratings in
HelpSteer2's layout (one row per prompt and response, a column per attribute: the mean over
its annotators) and the rankings as they were given (one row per item, each annotator's tiers).

Both stream item by item in batches (three queries a batch), so memory stays flat. Positions
are the item's own (file order); annotators are PrefLab user ids, pseudonymous but stable, so
agreement can be recomputed from the file.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webapp.exports.card import CardFile, ItemCard
from webapp.exports.writers import JsonlWriter, WrittenFile
from webapp.labelling.derive import scores_of
from webapp.labelling.models import ItemAnswer
from webapp.labelling.payloads import kind_asked
from webapp.pairs.models import Item, ItemResponse
from webapp.projects.models import Project
from webapp.projects.schemes import scheme_settings_of

BATCH = 500


@dataclass(frozen=True)
class ItemFile:
    config: str  # its config name in the card's YAML header
    written: WrittenFile
    about: str


def _batches(project: Project, split: str) -> Iterator[tuple[list[Item], dict, dict]]:
    """Items in id order with their responses and answers, BATCH at a time."""
    items = Item.objects.filter(project=project).select_related("prompt").order_by("id")
    if split:
        items = items.filter(split=split)
    last = 0
    while batch := list(items.filter(id__gt=last)[:BATCH]):
        last = batch[-1].pk
        ids = [i.pk for i in batch]
        responses: dict[int, list[Any]] = defaultdict(list)
        for r in (
            ItemResponse.objects.filter(item_id__in=ids)
            .select_related("response")
            .order_by("item_id", "position")
        ):
            responses[r.item_id].append(r)
        answers: dict[int, list[ItemAnswer]] = defaultdict(list)
        for a in ItemAnswer.objects.filter(item_id__in=ids).order_by("item_id", "annotator_id"):
            answers[a.item_id].append(a)
        yield batch, responses, answers


def _ratings_lines(project: Project, split: str) -> Iterator[bytes]:
    settings = scheme_settings_of(project)
    names = settings.names()
    for batch, responses, answers in _batches(project, split):
        lines = []
        for item in batch:
            given = [
                scores_of(kind=a.kind, payload=a.payload, settings=settings)
                for a in answers[item.pk]
                if a.kind == "rating"
            ]
            for r in responses[item.pk]:
                row: dict[str, Any] = {
                    "prompt": item.prompt.transcript,
                    "response": r.response.text,
                }
                for name in names:
                    values = [g[name][r.position] for g in given if r.position in g.get(name, {})]
                    row[name] = sum(values) / len(values) if values else None
                row |= {
                    "annotators": len(given),
                    "item_id": item.pk,
                    "position": r.position,
                    "split": item.split,
                }
                lines.append(json.dumps(row, ensure_ascii=False))
        if lines:
            yield ("\n".join(lines) + "\n").encode()


def _rankings_lines(project: Project, split: str) -> Iterator[bytes]:
    for batch, responses, answers in _batches(project, split):
        lines = []
        for item in batch:
            row = {
                "prompt": item.prompt.transcript,
                "responses": [r.response.text for r in responses[item.pk]],
                "answers": [
                    {"annotator_id": a.annotator_id, "kind": a.kind, **a.payload}
                    for a in answers[item.pk]
                    if a.kind in ("ranking", "best_worst")
                ],
                "item_id": item.pk,
                "split": item.split,
            }
            lines.append(json.dumps(row, ensure_ascii=False))
        if lines:
            yield ("\n".join(lines) + "\n").encode()


def item_files_write(*, project: Project, work: Path, split: str = "") -> list[ItemFile]:
    """Write the project's item files into ``work`` (JSON Lines: ``datasets`` reads them as
    configs of their own)."""
    out = []
    if project.label_scheme == "rating":
        out.append(
            (
                "ratings",
                _ratings_lines,
                "ratings in HelpSteer2's layout: one row per prompt and response, each "
                "attribute the mean of its annotators",
            )
        )
    if project.label_scheme == "ranking":
        out.append(
            (
                "rankings",
                _rankings_lines,
                "rankings as given: one row per prompt, its responses and each annotator's answer",
            )
        )
    files = []
    for config, lines, about in out:
        writer = JsonlWriter(work / f"{config}.jsonl")
        try:
            for block in lines(project, split):
                writer.write(block)
        finally:
            written = writer.close()
        files.append(ItemFile(config, written, about))
    return files


def item_card(*, project: Project, files: list[ItemFile]) -> ItemCard:
    settings = scheme_settings_of(project)
    return ItemCard(
        scheme=project.label_scheme,
        kind=kind_asked(scheme=project.label_scheme, settings=settings),
        derivation=settings.derivation,
        attributes=(
            []
            if project.label_scheme == "ranking"
            else [(a.name, a.low, a.high, a.description) for a in settings.attributes]
        ),
        overall=dict(settings.overall),
        files=[
            (
                f.config,
                CardFile(f.written.name, "", f.config, f.written.rows, f.written.sha256),
                f.about,
            )
            for f in files
        ],
    )
