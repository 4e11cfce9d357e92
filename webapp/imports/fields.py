"""ParsedPair, and the checks every field goes through on its way to PostgreSQL.

Text must be a string, non-empty where it is content, and free of what PostgreSQL cannot store
(NUL, unpaired surrogates); metadata must be JSON-safe. A failed check raises `Bad`, which
`RecordStream` turns into a RecordError on the record's line. Pure Python, no Django.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from webapp.imports.containers import kind_of

Conversation = list[dict[str, str]]  # [{"role": "user"|"assistant"|"system", "content": str}]


@dataclass(slots=True)
class ParsedPair:
    line: int  # 1-based line of the record (JSON array: of its first character); Parquet: row
    prompt: str | Conversation  # text, or every turn before the compared responses
    response_a: str
    response_b: str
    label: str  # "a" | "b" | "tie" | "" (no label)
    external_id: str = ""
    split: str = ""  # from the file where given, else ""
    model_a: str = ""  # source model of response_a, if known
    model_b: str = ""
    # (annotator name, "a" | "b" | "tie" | "both_bad")
    votes: list[tuple[str, str]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)  # every other column, JSON-safe


def storable(value: str) -> str:
    """``value`` with what PostgreSQL cannot store (NUL, unpaired surrogates) written as
    escapes: a report that names a field ``"a\\x00b"`` must not fail to be saved."""
    if "\x00" not in value and value.isascii():
        return value
    return value.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")


class Bad(Exception):
    """A record's problem; RecordStream turns it into a RecordError on the record's line. Its
    field may be a name out of the file (a key, a rater), so both are made storable."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = storable(field), storable(reason)


_ROLES = frozenset({"user", "assistant", "system"})

# The longest values the short columns take (Pair.external_id, Pair.split, Response.source_model
# in webapp/pairs/models.py; a test keeps them equal). A longer one rejects its record here,
# since at COPY time it would fail the whole chunk.
MAX_ID, MAX_SPLIT, MAX_MODEL = 200, 20, 200
# The longest name of a rater or labeller in a file: each becomes an imported annotator, the user
# `import-p<project>-<name>` (150 characters at most), and two names must never share one.
MAX_RATER = 100


def show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_text(value: str, field: str) -> str:
    if "\x00" in value:
        raise Bad(field, "contains a NUL character, which PostgreSQL cannot store")
    if not value.isascii():
        try:
            value.encode()  # faster than a regex; fails only on unpaired surrogates
        except UnicodeEncodeError:
            raise Bad(
                field, "contains an unpaired surrogate (a lone \\ud800-\\udfff escape)"
            ) from None
    return value


def get(record: dict[str, Any], key: str) -> Any:
    try:
        return record[key]
    except KeyError:
        raise Bad(key, "the field is missing") from None


def text(value: Any, field: str, *, required: bool = True) -> str:
    if type(value) is not str:
        if value is None and not required:
            return ""
        raise Bad(field, f"expected a string, got {kind_of(value)}")
    if required and (not value or value.isspace()):
        raise Bad(field, "the text is empty")
    return check_text(value, field)


def short(value: str, field: str, limit: int) -> str:
    if len(value) > limit:
        raise Bad(field, f"too long: {len(value)} characters, at most {limit} fit")
    return value


def rater_of(value: Any, field: str) -> str:
    """The name of a rater (a key of a file's rankings or scores, a labeller's id)."""
    return short(text(value, field, required=False), field, MAX_RATER)


def ident(value: Any, field: str) -> str:
    if type(value) is int:
        return short(str(value), field, MAX_ID)
    return short(text(value, field, required=False), field, MAX_ID)


def split_of(value: Any, field: str) -> str:
    return short(text(value, field, required=False), field, MAX_SPLIT)


def model_of(value: Any, field: str) -> str:
    return short(text(value, field, required=False), field, MAX_MODEL)


def messages(value: Any, field: str) -> Conversation:
    if type(value) is not list:
        raise Bad(field, f"expected a list of messages, got {kind_of(value)}")
    out = []
    for i, message in enumerate(value, 1):
        if type(message) is not dict:
            raise Bad(field, f"message {i}: expected an object, got {kind_of(message)}")
        role, content = message.get("role"), message.get("content")
        if type(role) is not str or role not in _ROLES:
            raise Bad(
                field, f"message {i}: role must be user, assistant or system, not {show(role)}"
            )
        if type(content) is not str:
            raise Bad(field, f"message {i}: content: expected a string, got {kind_of(content)}")
        out.append({"role": role, "content": check_text(content, field)})
    return out


def prompt_of(value: Any, field: str) -> str | Conversation:
    if type(value) is not list:
        return text(value, field)
    conversation = messages(value, field)
    if all(not m["content"] or m["content"].isspace() for m in conversation):
        raise Bad(field, "the prompt is empty")
    return conversation


def response_of(value: Any, field: str) -> str:
    """A response: text, or a list of messages whose contents we join with blank lines.

    An empty response is allowed: models do answer with nothing, and such pairs are worth
    importing and flagging rather than losing."""
    if type(value) is list:
        value = "\n\n".join(m["content"] for m in messages(value, field))
    if type(value) is not str:
        raise Bad(field, f"expected a string, got {kind_of(value)}")
    return check_text(value, field)


def json_safe(value: Any, field: str) -> Any:
    """`value` as something json.dumps and PostgreSQL's jsonb both accept."""
    kind = type(value)
    if kind is str:
        return check_text(value, field)
    if value is None or kind is bool or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {check_text(str(k), field): json_safe(v, field) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [json_safe(v, field) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)  # Decimal, timedelta and other Parquet types


def metadata(record: dict[str, Any], used: frozenset[str]) -> dict[str, Any]:
    if record.keys() <= used:
        return {}
    return {check_text(k, k): json_safe(v, k) for k, v in record.items() if k not in used}
