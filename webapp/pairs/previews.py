"""Bounded previews of dataset texts, for every list that shows them.

A response may be 50 MB. A list (the project page, the review queue, a scoring run's extreme
pairs, the checks' flagged pairs, gold pairs, human labels, the API's pair list) shows the
first PREVIEW_CHARS characters of each text and its full length, cut in PostgreSQL
(``left(...)`` and ``length(...)``, see ``preview_sql``), so a long text never leaves the
database for a list. The cut is made on the text before any escaping, by characters: it can
split neither a character nor an HTML entity, which templates add afterwards. Only a pair's
own pages send whole texts, long ones folded (``fold``, and templates/_text.html).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from webapp.pairs.models import Pair, Prompt, Response

PREVIEW_CHARS = 600
# A pair's own pages show this much of a longer text, the rest behind "show all".
FOLD_CHARS = 3000

PAIRS = Pair._meta.db_table
PROMPTS = Prompt._meta.db_table
RESPONSES = Response._meta.db_table


def characters(n: int) -> str:
    return f"{n:,} character{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Preview:
    text: str  # at most PREVIEW_CHARS characters
    length: int  # characters of the whole text

    @property
    def cut(self) -> bool:
        return self.length > len(self.text)

    @property
    def length_shown(self) -> str:
        return characters(self.length)


def preview(text: str, *, chars: int = PREVIEW_CHARS) -> Preview:
    """The preview of a text already in memory."""
    return Preview(text[:chars], len(text))


def preview_sql(expression: str) -> str:
    """Two select-list columns for the preview of a text ``expression``: its first
    PREVIEW_CHARS characters and its length, both computed by PostgreSQL. ``left`` reads only
    the start of a long (TOASTed) value; ``length`` reads it all but sends one number."""
    return f"left({expression}, {PREVIEW_CHARS}), length({expression})"


# A prompt as one text: its own for a plain prompt, the transcript of a conversation.
PROMPT_TEXT = "coalesce(pr.transcript, '')"


@dataclass(frozen=True)
class PairPreview:
    prompt: Preview
    a: Preview
    b: Preview


def pair_previews(*, pair_ids: Iterable[int]) -> dict[int, PairPreview]:
    """The previews of the prompts and responses of these pairs, in one query."""
    ids = sorted(set(pair_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.id, {preview_sql(PROMPT_TEXT)}, {preview_sql("ra.text")},
                {preview_sql("rb.text")}
            FROM {PAIRS} p
            JOIN {PROMPTS} pr ON pr.id = p.prompt_id
            JOIN {RESPONSES} ra ON ra.id = p.response_a_id
            JOIN {RESPONSES} rb ON rb.id = p.response_b_id
            WHERE p.id = ANY(%s)
            """,
            [ids],
        )
        rows = cursor.fetchall()
    return {
        row[0]: PairPreview(
            Preview(row[1].lstrip(), row[2] - (len(row[1]) - len(row[1].lstrip()))),
            Preview(row[3], row[4]),
            Preview(row[5], row[6]),
        )
        for row in rows
    }


def with_previews(items: Sequence[Any], *, key: str = "pair_id") -> list[Any]:
    """The items (pairs, scores, flags... with their pair's id in ``key``), each with
    ``.preview``, the PairPreview of its pair, for a list template."""
    previews = pair_previews(pair_ids=(getattr(item, key) for item in items))
    out = list(items)
    for item in out:
        item.preview = previews[getattr(item, key)]
    return out


@dataclass(frozen=True)
class Folded:
    head: str
    rest: str  # empty unless the text is longer than FOLD_CHARS

    @property
    def rest_shown(self) -> str:
        return characters(len(self.rest))


def fold(text: Any, *, chars: int = FOLD_CHARS) -> Folded:
    """A whole text (or any value, as text) for a pair's own page: its start to show, the
    rest to fold."""
    text = "" if text is None else str(text)
    return Folded(text[:chars], text[chars:])
