"""Records of several responses to one prompt: ParsedItem, and the formats that give them.

- `ultrafeedback`: one record a prompt, ``instruction`` (or ``prompt``) and ``completions``,
  each with ``response`` (or ``text``), ``model`` and per-aspect ratings, as UltraFeedback
  writes them (``annotations: {aspect: {"Rating": "4", ...}}``) or plainly (``ratings:
  {aspect: 4}``). The ratings are one rater's, "ultrafeedback".
- `listwise`: one record a prompt: ``prompt``, ``responses`` (texts, or ``{text, model}``) and
  ``ranking`` (a rank per response, 1 best, equal ranks tied) or ``scores`` (a number per
  response), either one list or ``{rater: list}``.
- `helpsteer2`: one row a response (``prompt``, ``response`` and the five attribute columns);
  the rows of one prompt are grouped into an item, wherever they are in the file.
- `prometheus`: Prometheus-eval's absolute-grading rows (``instruction`` holding the prompt and
  the response, ``gpt4_score`` a list of judge scores, one rater each), grouped by ``idx``.

Row formats give ParsedRow; ``group_rows`` turns them into items at the end of the file (they
are held in memory until then: a million rows fit). Pure Python, no Django.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from webapp.imports.containers import RecordError, kind_of
from webapp.imports.fields import (
    Bad,
    Conversation,
    get,
    ident,
    metadata,
    model_of,
    prompt_of,
    rater_of,
    response_of,
    show,
    split_of,
    text,
)

# rater -> position -> attribute -> value
Scores = dict[str, dict[int, dict[str, float]]]


@dataclass(slots=True)
class ParsedResponse:
    text: str
    model: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ParsedItem:
    line: int
    prompt: str | Conversation
    responses: list[ParsedResponse]
    external_id: str = ""
    split: str = ""
    scores: Scores = field(default_factory=dict)
    rankings: dict[str, dict[int, int]] = field(default_factory=dict)  # rater -> pos -> rank
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ParsedRow:
    """One response of an item, to be grouped with the other rows of its ``group``."""

    line: int
    group: str
    prompt: str | Conversation
    response: ParsedResponse
    external_id: str = ""
    split: str = ""
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # rater -> attr -> value
    ranks: dict[str, int] = field(default_factory=dict)  # rater -> rank
    # The rows of a group may have prompts that differ after a shared start (MT-Bench's second
    # turns follow each model's own first answer): the item's prompt is then the shared
    # start, and each response begins with the rest of its own prompt.
    own_context: bool = False


@dataclass(slots=True)
class RejectedRow:
    """A row that did not parse, with the group it would have joined where its format can still
    tell (None when the group's own field is at fault). The rest of that group is left out with
    it: an item missing one of its responses would rank and rate a different set."""

    error: RecordError
    group: str | None


def number(value: Any, field: str) -> float:
    """A rating: a number, or a string of one ("4", as UltraFeedback writes them)."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise Bad(field, f"expected a number, got {show(value)}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Bad(field, f"expected a number, got {kind_of(value)}")
    return float(value)


def _responses(value: Any, field: str) -> list[ParsedResponse]:
    if type(value) is not list or len(value) < 2:
        raise Bad(field, "expected a list of at least two responses")
    out = []
    for i, entry in enumerate(value):
        if type(entry) is dict:
            key = "text" if "text" in entry else "response"
            out.append(
                ParsedResponse(
                    response_of(get(entry, key), f"{field}[{i}].{key}"),
                    model_of(entry.get("model"), f"{field}[{i}].model"),
                )
            )
        else:
            out.append(ParsedResponse(response_of(entry, f"{field}[{i}]")))
    return out


def _per_rater(value: Any, field: str, n: int) -> dict[str, list[Any]]:
    lists = value if type(value) is dict else {field: value}
    out = {}
    for rater, values in lists.items():
        where = field if type(value) is not dict else f"{field}.{rater}"
        if type(values) is not list or len(values) != n:
            raise Bad(where, f"expected a list of {n} values, one per response")
        out[rater_of(rater, where)] = values
    return out


_UF_USED = frozenset({"instruction", "prompt", "completions", "id", "split"})


def parse_ultrafeedback(line: int, record: dict[str, Any]) -> ParsedItem:
    key = "instruction" if "instruction" in record else "prompt"
    prompt = prompt_of(get(record, key), key)
    completions = get(record, "completions")
    responses = _responses(completions, "completions")
    ratings: dict[int, dict[str, float]] = {}
    for i, completion in enumerate(completions):
        where = f"completions[{i}]"
        if type(completion) is not dict:
            raise Bad(where, "expected an object with a response and its ratings")
        aspects = completion.get("annotations", completion.get("ratings"))
        if type(aspects) is not dict or not aspects:
            raise Bad(f"{where}.annotations", "expected an object of per-aspect ratings")
        ratings[i] = {}
        for aspect, value in aspects.items():
            if type(value) is dict:
                value = value.get("Rating", value.get("rating"))
                ratings[i][aspect] = number(value, f"{where}.annotations.{aspect}.Rating")
            else:
                ratings[i][aspect] = number(value, f"{where}.annotations.{aspect}")
    return ParsedItem(
        line,
        prompt,
        responses,
        external_id=ident(record.get("id"), "id"),
        split=split_of(record.get("split"), "split"),
        scores={"ultrafeedback": ratings},
        metadata=metadata(record, _UF_USED),
    )


_LISTWISE_USED = frozenset({"prompt", "responses", "ranking", "scores", "id", "split"})


def parse_listwise(line: int, record: dict[str, Any]) -> ParsedItem:
    prompt = prompt_of(get(record, "prompt"), "prompt")
    responses = _responses(get(record, "responses"), "responses")
    n = len(responses)
    if ("ranking" in record) == ("scores" in record):
        raise Bad("ranking", "give a ranking or scores (one of the two)")
    item = ParsedItem(
        line,
        prompt,
        responses,
        external_id=ident(record.get("id"), "id"),
        split=split_of(record.get("split"), "split"),
        metadata=metadata(record, _LISTWISE_USED),
    )
    if "ranking" in record:
        for rater, ranks in _per_rater(record["ranking"], "ranking", n).items():
            field_of = "ranking" if rater == "ranking" else f"ranking.{rater}"
            item.rankings[rater] = {}
            for i, rank in enumerate(ranks):
                value = number(rank, f"{field_of}[{i}]")
                if not value.is_integer() or value < 1:
                    raise Bad(
                        f"{field_of}[{i}]", f"a rank is a whole number from 1, got {show(rank)}"
                    )
                item.rankings[rater][i] = int(value)
    else:
        for rater, values in _per_rater(record["scores"], "scores", n).items():
            field_of = "scores" if rater == "scores" else f"scores.{rater}"
            item.scores[rater] = {
                i: {"score": number(v, f"{field_of}[{i}]")} for i, v in enumerate(values)
            }
    return item


HELPSTEER2_ATTRIBUTES = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")
_HS2_USED = frozenset({"prompt", "response", "split", "id", *HELPSTEER2_ATTRIBUTES})


def helpsteer2_group(record: dict[str, Any]) -> str:
    """A HelpSteer2 row's group: its prompt."""
    return text(get(record, "prompt"), "prompt")


def prometheus_group(record: dict[str, Any]) -> str:
    return ident(get(record, "idx"), "idx")


def parse_helpsteer2(line: int, record: dict[str, Any]) -> ParsedRow:
    prompt = helpsteer2_group(record)
    response = ParsedResponse(
        response_of(get(record, "response"), "response"), "", metadata(record, _HS2_USED)
    )
    values = {a: number(get(record, a), a) for a in HELPSTEER2_ATTRIBUTES if a in record}
    return ParsedRow(
        line,
        prompt,
        prompt,
        response,
        split=split_of(record.get("split"), "split"),
        scores={"helpsteer2": values},
    )


_PROMPT_MARK, _RESPONSE_MARK = "###The instruction to evaluate:", "###Response to evaluate:"
_AFTER_RESPONSE = "###Reference Answer"


def parse_prometheus(line: int, record: dict[str, Any]) -> ParsedRow:
    instruction = text(get(record, "instruction"), "instruction")
    start, middle = instruction.find(_PROMPT_MARK), instruction.find(_RESPONSE_MARK)
    if start < 0 or middle < start:
        raise Bad("instruction", f"expected {_PROMPT_MARK!r} then {_RESPONSE_MARK!r}")
    end = instruction.find(_AFTER_RESPONSE, middle)
    prompt = instruction[start + len(_PROMPT_MARK) : middle].strip()
    response = instruction[middle + len(_RESPONSE_MARK) : end if end > 0 else None].strip()
    if not prompt:
        raise Bad("instruction", "the instruction to evaluate is empty")
    scores = get(record, "gpt4_score")
    if type(scores) is not list or not scores:
        raise Bad("gpt4_score", "expected a list of scores, one per judge run")
    group = prometheus_group(record)
    return ParsedRow(
        line,
        group,
        prompt,
        ParsedResponse(response, model_of(record.get("response_source"), "response_source")),
        external_id=group,
        own_context=True,
        scores={
            f"gpt4-{k + 1}": {"score": number(s, f"gpt4_score[{k}]")} for k, s in enumerate(scores)
        },
    )


def group_rows(
    parsed: Iterable[ParsedItem | ParsedRow | RecordError | Any], file: str
) -> Iterator[Any]:
    """Pass items and errors through; hold rows until the end, then give one ParsedItem per
    group (at its first row's line, responses in row order), or a RecordError for a group of
    one row or a row whose prompt differs from its group's. A group with a rejected row
    (RejectedRow) gives a RecordError for each of its other rows instead of an item."""
    groups: dict[str, list[ParsedRow]] = {}
    rejected: dict[str, int] = {}  # group -> line of its first rejected row
    for entry in parsed:
        if isinstance(entry, RejectedRow):
            if entry.group is not None:
                rejected.setdefault(entry.group, entry.error.line)
            yield entry.error
            continue
        if not isinstance(entry, ParsedRow):
            yield entry
            continue
        rows = groups.setdefault(entry.group, [])
        if rows and rows[0].prompt != entry.prompt and not entry.own_context:
            yield RecordError(
                file, entry.line, "prompt", f"differs from line {rows[0].line}'s, in the same group"
            )
            continue
        rows.append(entry)
    for group, rows in groups.items():
        first = rows[0]
        if group in rejected:
            reason = f"line {rejected[group]}, a response of the same prompt, was rejected"
            for row in rows:
                yield RecordError(file, row.line, "response", f"{reason}: its item is left out")
            continue
        if len(rows) < 2:
            yield RecordError(
                file, first.line, "response", "the only response of its prompt: an item needs two"
            )
            continue
        prompt, responses = _shared_prompt(rows)
        scores: Scores = {}
        rankings: dict[str, dict[int, int]] = {}
        for position, row in enumerate(rows):
            for rater, values in row.scores.items():
                scores.setdefault(rater, {})[position] = values
            for rater, rank in row.ranks.items():
                rankings.setdefault(rater, {})[position] = rank
        yield ParsedItem(
            first.line,
            prompt,
            responses,
            external_id=first.external_id,
            split=first.split,
            scores=scores,
            rankings=rankings,
        )


def _shared_prompt(rows: list[ParsedRow]) -> tuple[str | Conversation, list[ParsedResponse]]:
    """The group's prompt and responses; see ParsedRow.own_context."""
    prompts = [row.prompt for row in rows]
    if all(p == prompts[0] for p in prompts) or not all(isinstance(p, str) for p in prompts):
        return prompts[0], [row.response for row in rows]
    texts = [str(p) for p in prompts]
    # the lexically first and last texts share exactly the start that all of them share
    low, high = min(texts), max(texts)
    shared = next((low[:i] for i, (x, y) in enumerate(zip(low, high, strict=False)) if x != y), low)
    if shared and not shared[-1].isspace() and shared[-1] != ":":
        shared = shared[: shared.rfind("\n") + 1]  # never cut a word in two
    responses = [
        ParsedResponse(
            f"{text[len(shared) :].strip()}\n\n{row.response.text}",
            row.response.model,
            row.response.metadata,
        )
        for text, row in zip(texts, rows, strict=True)
    ]
    return shared.strip() or texts[0], responses


ITEM_PARSERS: dict[str, Callable[[int, dict[str, Any]], ParsedItem | ParsedRow]] = {
    "ultrafeedback": parse_ultrafeedback,
    "listwise": parse_listwise,
    "helpsteer2": parse_helpsteer2,
    "prometheus": parse_prometheus,
}
# The formats of one response a row, and how each tells a row's group.
ROW_GROUPS: dict[str, Callable[[dict[str, Any]], str]] = {
    "helpsteer2": helpsteer2_group,
    "prometheus": prometheus_group,
}


def detect_items(record: dict[str, Any]) -> str | None:
    keys = record.keys()
    if type(record.get("completions")) is list:
        return "ultrafeedback"
    if type(record.get("responses")) is list and ("ranking" in keys or "scores" in keys):
        return "listwise"
    if {"prompt", "response", "helpfulness"} <= keys:
        return "helpsteer2"
    if {"instruction", "gpt4_score", "idx"} <= keys:
        return "prometheus"
    return None
