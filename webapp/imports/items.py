"""The importer's case for items (a prompt with several responses): their answers per the
project's scheme, and their rows, written set-based beside the pairs' (services.py).

A file's scores and rankings belong to named raters; each rater becomes an imported annotator
(an inactive user, as the pair importer makes for votes in files), and their answers derive
pairs exactly as people's answers do (webapp/labelling/items.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webapp.imports.fields import Bad, ParsedPair
from webapp.imports.listwise import ParsedItem, ParsedResponse
from webapp.labelling.derive import overall_score
from webapp.labelling.items import AnswerRow, Derived, item_answers_store
from webapp.labelling.payloads import PayloadError, payload_clean
from webapp.pairs.hashing import canonical, item_key, prompt_hash, response_hash
from webapp.pairs.models import Item, ItemResponse, Prompt, Response
from webapp.projects.models import Project
from webapp.projects.schemes import SchemeSettings

ITEMS = Item._meta.db_table
ITEM_RESPONSES = ItemResponse._meta.db_table
PROMPTS = Prompt._meta.db_table
RESPONSES = Response._meta.db_table

Answer = tuple[str, str, dict[str, Any]]  # rater, kind, cleaned payload


def pair_as_item(pair: ParsedPair) -> ParsedItem:
    """A pair file imported into a pairwise-per-attribute project: an item of two responses,
    A at position 0. Its label and votes are kept in the metadata, not as answers."""
    extra = dict(pair.metadata)
    if pair.label:
        extra["imported_label"] = pair.label
    return ParsedItem(
        pair.line,
        pair.prompt,
        [
            ParsedResponse(pair.response_a, pair.model_a),
            ParsedResponse(pair.response_b, pair.model_b),
        ],
        external_id=pair.external_id,
        split=pair.split,
        metadata=extra,
    )


def _side(x: float, y: float) -> str:
    return "a" if x > y else "b" if y > x else "tie"


def _tiers(scores: dict[int, float]) -> list[list[int]]:
    levels = sorted(set(scores.values()), reverse=True)
    return [[p for p in sorted(scores) if scores[p] == level] for level in levels]


def _score(values: dict[str, float], settings: SchemeSettings, field: str) -> float:
    """One number for a response: its only attribute, else the settings' overall score."""
    if len(values) == 1:
        return next(iter(values.values()))
    try:
        return overall_score(values, settings)
    except KeyError as missing:
        raise Bad(
            field, f"has no {missing.args[0]} rating, which the overall score needs"
        ) from None


def answers_of(item: ParsedItem, *, scheme: str, settings: SchemeSettings) -> list[Answer]:
    """The answers an item's scores and rankings give in a project of this scheme, cleaned;
    Bad names the field of the first that does not fit the project's settings."""
    positions = list(range(len(item.responses)))
    raw: list[tuple[str, str, dict[str, Any]]] = []
    for rater, by_position in item.scores.items():
        if len(by_position) != len(positions):
            raise Bad(rater, f"rates {len(by_position)} of the {len(positions)} responses")
        if scheme == "rating":
            ratings = {str(p): dict(v) for p, v in by_position.items()}
            raw.append((rater, "rating", {"ratings": ratings}))
        elif scheme == "ranking":
            scores = {p: _score(v, settings, rater) for p, v in by_position.items()}
            raw.append((rater, "ranking", {"tiers": _tiers(scores)}))
        elif scheme == "pairwise_attributes":
            if len(positions) != 2:
                raise Bad("responses", "a pairwise item has exactly two responses")
            a, b = by_position[0], by_position[1]
            attributes = {name: _side(a[name], b[name]) for name in a if name in b}
            overall = _side(_score(a, settings, rater), _score(b, settings, rater))
            raw.append(
                (rater, "pairwise_attributes", {"overall": overall, "attributes": attributes})
            )
    for rater, ranks in item.rankings.items():
        if scheme != "ranking":
            raise Bad(rater, "a ranking can only be imported into a ranking project")
        if len(ranks) != len(positions):
            raise Bad(rater, f"ranks {len(ranks)} of the {len(positions)} responses")
        raw.append((rater, "ranking", {"tiers": _tiers({p: -float(r) for p, r in ranks.items()})}))
    cleaned = []
    for rater, kind, payload in raw:
        try:
            cleaned.append(
                (
                    rater,
                    kind,
                    payload_clean(
                        kind=kind, payload=payload, positions=positions, settings=settings
                    ),
                )
            )
        except PayloadError as e:
            raise Bad(f"{rater}: {e.field}", _readable(e, item)) from None
    return cleaned


def _readable(error: PayloadError, item: ParsedItem) -> str:
    """A payload error with what the reader needs to find it: positions count from 0."""
    return f"{error.message} (responses at positions 0 to {len(item.responses) - 1})"


def item_row(
    item: ParsedItem, default_split: str
) -> tuple[bytes, tuple[Any, ...], list[tuple[bytes, str, str, str]]]:
    """The item's key, its staged row and its responses (hash, text, model, metadata JSON)."""
    p_hash = prompt_hash(item.prompt)
    responses = [
        (
            response_hash(r.text, r.model),
            r.text,
            r.model,
            canonical(r.metadata) if r.metadata else "{}",
        )
        for r in item.responses
    ]
    key = item_key(prompt=p_hash, responses=[r[0] for r in responses], external_id=item.external_id)
    row = (
        key,
        p_hash,
        item.line,
        item.split or default_split,
        item.external_id,
        canonical(item.metadata) if item.metadata else "{}",
    )
    return key, row, responses


def items_write(
    raw: Any,
    *,
    project: Project,
    batch_id: int,
    file_name: str,
    now: Any,
    items: list[tuple[tuple[Any, ...], list[tuple[bytes, str, str, str]], list[Answer]]],
    annotator_id: Callable[[str], int],
) -> tuple[int, Derived]:
    """Insert the chunk's items and their responses (their prompts and response texts are
    already in, staged by the pair path), then their answers, which derive their pairs.
    Returns the items created and what the answers stored and derived."""
    keys = [row[0] for row, _, _ in items]
    raw.execute(
        f"""
        INSERT INTO {ITEMS} (project_id, prompt_id, dedup_key, source_file, source_line, split,
            external_id, metadata, import_batch_id, created_at)
        SELECT %(project)s, p.id, s.k, %(file)s, s.line, s.split, s.external_id, s.metadata,
            %(batch)s, %(now)s
        FROM unnest(%(keys)s::bytea[], %(prompts)s::bytea[], %(lines)s::int[], %(splits)s::text[],
            %(ids)s::text[], %(metadata)s::jsonb[]) AS s(k, p, line, split, external_id, metadata)
        JOIN {PROMPTS} p ON p.content_hash = s.p
        ON CONFLICT (project_id, dedup_key) DO NOTHING
        """,
        {
            "project": project.pk,
            "file": file_name[:500],
            "batch": batch_id,
            "now": now,
            "keys": keys,
            "prompts": [row[1] for row, _, _ in items],
            "lines": [row[2] for row, _, _ in items],
            "splits": [row[3] for row, _, _ in items],
            "ids": [row[4] for row, _, _ in items],
            "metadata": [row[5] for row, _, _ in items],
        },
    )
    created = raw.rowcount
    raw.execute(
        f"SELECT dedup_key, id FROM {ITEMS} WHERE project_id = %s AND dedup_key = ANY(%s)",
        [project.pk, keys],
    )
    ids = {bytes(k): i for k, i in raw.fetchall()}
    flat = [
        (ids[row[0]], position, response[0], response[3])
        for row, responses, _ in items
        for position, response in enumerate(responses)
    ]
    raw.execute(
        f"""
        INSERT INTO {ITEM_RESPONSES} (item_id, position, response_id, metadata)
        SELECT s.item_id, s.position, r.id, s.metadata
        FROM unnest(%(items)s::bigint[], %(positions)s::int[], %(hashes)s::bytea[],
            %(metadata)s::jsonb[]) AS s(item_id, position, h, metadata)
        JOIN {RESPONSES} r ON r.content_hash = s.h
        ON CONFLICT (item_id, position) DO NOTHING
        """,
        {
            "items": [f[0] for f in flat],
            "positions": [f[1] for f in flat],
            "hashes": [f[2] for f in flat],
            "metadata": [f[3] for f in flat],
        },
    )
    answers = [
        AnswerRow(ids[row[0]], annotator_id(rater), kind, payload)
        for row, _, item_answers in items
        for rater, kind, payload in item_answers
    ]
    stored = item_answers_store(project=project, answers=answers)
    return created, stored
