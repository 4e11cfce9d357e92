"""Turn the records of preference-data files into normalized pairs, or precise errors.

Formats: `hh` (Anthropic HH-RLHF transcripts), `trl` (TRL preference data: text or
conversations, explicit or implicit prompt), `pandalm` (PandaLM's test set, three human votes a
pair) and `mapping` (any columns, named by the caller: mapping.py); formats of several
responses to a prompt, which give ParsedItem (listwise.py: `ultrafeedback`, `listwise`,
`helpsteer2`, `prometheus`; their mapping is item_mapping.py); and step-by-step solutions for
the `steps` label scheme (steps.py: ProcessBench, BIG-Bench-Mistake, PRM800K, the stepwise
layout, and the mapping format with a `steps` target), which give ParsedSteps. containers.py
reads the files; fields.py holds ParsedPair and the checks on its fields.

Pure Python, no Django: the importer copies the pairs into PostgreSQL with COPY, so every text
is checked for what PostgreSQL cannot store (NUL, unpaired surrogates) and metadata is JSON-safe.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from webapp.imports.containers import FormatError, Item, RecordError, Source, peek
from webapp.imports.fields import (
    Bad,
    Conversation,
    ParsedPair,
    get,
    ident,
    messages,
    metadata,
    model_of,
    prompt_of,
    response_of,
    show,
    split_of,
    text,
)
from webapp.imports.item_mapping import ItemMapping, is_item_mapping
from webapp.imports.listwise import (
    ITEM_PARSERS,
    ROW_GROUPS,
    ParsedItem,
    ParsedRow,
    RejectedRow,
    detect_items,
    group_rows,
)
from webapp.imports.mapping import Mapping
from webapp.imports.step_fields import ParsedSteps
from webapp.imports.steps import STEP_FORMATS, STEP_PARSERS, StepMapping, detect_steps

__all__ = [
    "FORMATS",
    "Conversation",
    "FormatError",
    "ParsedItem",
    "ParsedPair",
    "ParsedSteps",
    "RecordError",
    "RecordStream",
    "open_records",
]

FORMATS = ("auto", "hh", "trl", "pandalm", *STEP_FORMATS, "mapping", *ITEM_PARSERS)
# The formats whose records are items of several responses, not pairs.
ITEM_FORMATS = frozenset(ITEM_PARSERS)


# --- hh: Anthropic HH-RLHF ------------------------------------------------------------------

_HUMAN, _ASSISTANT = "\n\nHuman:", "\n\nAssistant:"
_HH_USED = frozenset({"chosen", "rejected", "id", "split"})


def _hh_transcript(record: dict[str, Any], key: str) -> tuple[str, int]:
    """A transcript and where its last Assistant turn starts."""
    transcript = text(get(record, key), key)
    cut = transcript.rfind(_ASSISTANT)
    if cut < 0:
        raise Bad(key, 'the transcript has no "\\n\\nAssistant:" turn')
    return transcript, cut


def _hh_response(transcript: str, cut: int, key: str) -> str:
    start = cut + len(_ASSISTANT)
    response = transcript[start + 1 :] if transcript.startswith(" ", start) else transcript[start:]
    # An empty reply is real data (HH-RLHF has some): kept, for the checks to flag.
    return response


def _hh_conversation(prompt: str) -> Conversation:
    if prompt.startswith("Human:"):
        prompt = "\n\n" + prompt
    before, *turns = prompt.split(_HUMAN)  # str.split: three times faster than a regex here
    if not turns or before.strip():
        raise Bad("chosen", 'the transcript does not start with a "Human:" turn')
    conversation: Conversation = []
    add = conversation.append
    for turn in turns:
        question, *answers = turn.split(_ASSISTANT)
        add({"role": "user", "content": question.strip()})
        for answer in answers:
            add({"role": "assistant", "content": answer.strip()})
    return conversation


def _turns_by(transcript: str, end: int) -> int:
    """How many turns of `transcript` start at or before `end`."""
    humans = transcript.count(_HUMAN, 0, end + len(_HUMAN))
    return humans + transcript.count(_ASSISTANT, 0, end + len(_ASSISTANT))


def _hh_mismatch(prompt: str, other: str) -> Bad:
    pairs = enumerate(zip(prompt, other, strict=False))
    same = next((i for i, (x, y) in pairs if x != y), min(len(prompt), len(other)))
    turn = max(1, *(_turns_by(text, same) for text in (prompt, other)))  # the one that differs
    return Bad(
        "rejected",
        f"does not share chosen's prompt: the conversations before the last Assistant turn "
        f"differ from turn {turn} on",
    )


def parse_hh(line: int, record: dict[str, Any]) -> ParsedPair:
    """Whole transcripts; the prompt is everything before the last Assistant turn."""
    chosen, cut = _hh_transcript(record, "chosen")
    rejected, other_cut = _hh_transcript(record, "rejected")
    prompt = chosen[:cut]
    if other_cut != cut or not rejected.startswith(prompt):
        raise _hh_mismatch(prompt, rejected[:other_cut])
    conversation = _hh_conversation(prompt)
    response_a = _hh_response(chosen, cut, "chosen")
    response_b = _hh_response(rejected, cut, "rejected")
    return ParsedPair(
        line,
        conversation,
        response_a,
        response_b,
        "a",
        ident(record.get("id"), "id"),
        split_of(record.get("split"), "split"),
        "",
        "",
        [],
        metadata(record, _HH_USED),
    )


# --- trl: TRL preference data ---------------------------------------------------------------

_TRL_USED = frozenset({"prompt", "chosen", "rejected", "id", "split"})


def parse_trl(line: int, record: dict[str, Any]) -> ParsedPair:
    """Text or conversations. Several messages in chosen/rejected are joined with blank lines;
    without a prompt field, the prompt is the messages chosen and rejected share at the start."""
    if "prompt" in record:
        prompt = prompt_of(record["prompt"], "prompt")
        response_a = response_of(get(record, "chosen"), "chosen")
        response_b = response_of(get(record, "rejected"), "rejected")
    else:
        chosen, rejected = get(record, "chosen"), get(record, "rejected")
        if type(chosen) is not list or type(rejected) is not list:
            raise Bad(
                "prompt",
                "the field is missing (needed unless chosen and rejected are conversations)",
            )
        a, b = messages(chosen, "chosen"), messages(rejected, "rejected")
        shared, most = 0, min(len(a), len(b)) - 1  # each keeps at least its final message
        while shared < most and a[shared] == b[shared]:
            shared += 1
        if not shared:
            raise Bad("prompt", "no prompt: chosen and rejected share no messages at the start")
        prompt = prompt_of(a[:shared], "chosen")
        response_a = response_of(a[shared:], "chosen")
        response_b = response_of(b[shared:], "rejected")
    return ParsedPair(
        line,
        prompt,
        response_a,
        response_b,
        "a",
        external_id=ident(record.get("id"), "id"),
        split=split_of(record.get("split"), "split"),
        metadata=metadata(record, _TRL_USED),
    )


# --- pandalm: PandaLM's human-annotated test set --------------------------------------------

_ANNOTATOR = re.compile(r"annotator(\d+)")
_PANDALM_VOTES = {0: "tie", 1: "a", 2: "b", "0": "tie", "1": "a", "2": "b"}
_PANDALM_USED = frozenset({"idx", "instruction", "input", "response1", "response2"})


def _vote(value: Any, field: str) -> str:
    key = value.strip() if type(value) is str else value
    if type(key) not in (int, str) or key not in _PANDALM_VOTES:
        raise Bad(field, f"expected a vote of 0 (tie), 1 or 2, got {show(value)}")
    return _PANDALM_VOTES[key]


def parse_pandalm(line: int, record: dict[str, Any]) -> ParsedPair:
    instruction = text(get(record, "instruction"), "instruction", required=False)
    extra = text(record.get("input"), "input", required=False)
    if not (instruction.strip() or extra.strip()):
        raise Bad("instruction", "the instruction and the input are both empty")
    response_a = response_of(get(record, "response1"), "response1")
    response_b = response_of(get(record, "response2"), "response2")
    cmp_key = record.get("cmp_key")
    models = cmp_key.split("_") if type(cmp_key) is str else []
    annotators = sorted(
        (int(m[1]), key) for key in record if (m := _ANNOTATOR.fullmatch(key)) is not None
    )
    votes = [
        (key, _vote(record[key], key)) for _, key in annotators if record[key] not in (None, "")
    ]
    label = ""
    if votes:
        choices = [choice for _, choice in votes]
        top = max(set(choices), key=choices.count)
        label = top if 2 * choices.count(top) > len(choices) else "tie"
    return ParsedPair(
        line,
        "\n\n".join(part for part in (instruction, extra) if part.strip()),
        response_a,
        response_b,
        label,
        external_id=ident(record.get("idx"), "idx"),
        model_a=model_of(models[0], "cmp_key") if len(models) == 2 else "",
        model_b=model_of(models[1], "cmp_key") if len(models) == 2 else "",
        votes=votes,
        metadata=metadata(record, _PANDALM_USED | {key for _, key in annotators}),
    )


# --- The stream -----------------------------------------------------------------------------

Parser = Callable[[int, dict[str, Any]], ParsedPair | ParsedItem | ParsedRow | ParsedSteps]
_PARSERS: dict[str, Parser] = {
    "hh": parse_hh,
    "trl": parse_trl,
    "pandalm": parse_pandalm,
    **STEP_PARSERS,
}
_PARSERS |= ITEM_PARSERS


def detect(record: dict[str, Any]) -> str | None:
    """The format a record's keys suggest, or None."""
    keys = record.keys()
    if {"instruction", "response1", "response2"} <= keys:
        return "pandalm"
    if "chosen" in keys and "rejected" in keys:
        return "trl" if "prompt" in keys or type(record["chosen"]) is list else "hh"
    return detect_steps(keys) or detect_items(record)


class RecordStream:
    """Iterate (once) to get ParsedPair | RecordError in file order, or ParsedItem |
    RecordError for the item formats (row formats: their items at the end), or ParsedSteps |
    RecordError for the step formats (`is_steps`)."""

    def __init__(
        self,
        source: Source,
        fmt: str,
        parse: Parser,
        items: Generator[Item],
        group_of: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        self.format, self.size = fmt, source.size
        self.is_steps = fmt in STEP_FORMATS or isinstance(
            getattr(parse, "__self__", None), StepMapping
        )
        self._source, self._parse, self._items = source, parse, items
        self._started = False
        # Row formats: how a row tells its group (a rejected row's group is left out with it)
        self._group_of = group_of
        self._rows = group_of is not None
        self.of_items = fmt in ITEM_FORMATS or self._rows

    @property
    def position(self) -> int:
        """Bytes of the file (compressed, if .gz) consumed so far, for progress bars."""
        return self._source.position

    def __iter__(self) -> Generator[Any]:
        if self._started:
            raise RuntimeError("a RecordStream can be iterated only once")
        self._started = True
        if self._rows:
            yield from group_rows(self._parsed(), self._source.name)
        else:
            yield from self._parsed()

    def _parsed(self) -> Generator[Any]:
        name, parse = self._source.name, self._parse
        for item in self._items:
            if isinstance(item, RecordError):
                yield item
                continue
            line, record = item
            try:
                pair = parse(line, record)
            except Bad as e:
                error = RecordError(name, line, e.field, e.reason)
                yield error if self._group_of is None else RejectedRow(error, self._group(record))
                continue
            yield pair

    def _group(self, record: dict[str, Any]) -> str | None:
        assert self._group_of is not None
        try:
            return self._group_of(record)
        except Bad:
            return None

    def close(self) -> None:
        """Close the file now rather than when the stream is garbage-collected."""
        self._items.close()

    def __enter__(self) -> RecordStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_records(
    path: str | Path,
    *,
    fmt: str = "auto",
    mapping: dict[str, str] | None = None,
    display_name: str | None = None,
) -> RecordStream:
    """Open a preference-data file and resolve its format from its first readable record.

    Raises FormatError for whole-file problems: an unknown container or format, an unreadable
    or gzip-corrupt file, no readable record, a mapping that is wrong or names a missing
    column. The stream may raise FormatError later if the file turns out corrupt midway.
    """
    path = Path(path)
    name = display_name or path.name
    if fmt not in FORMATS:
        raise FormatError(f"{name}: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if mapping is not None and fmt == "auto":
        fmt = "mapping"
    if (fmt == "mapping") != (mapping is not None):
        raise FormatError(f"{name}: a column mapping goes with format 'mapping' and only with it")
    columns: Mapping | ItemMapping | StepMapping | None = None
    if mapping is not None:
        if isinstance(mapping, dict) and "steps" in mapping:
            columns = StepMapping.build(mapping, name)
        elif is_item_mapping(mapping):
            columns = ItemMapping.build(mapping, name)
        else:
            columns = Mapping.build(mapping, name)
    source = Source(path, name)
    first, records = peek(source.records(), name)
    try:
        fmt, parse = _resolve(fmt, columns, first, source.columns, name)
    except FormatError:
        records.close()
        raise
    group_of = columns.group_of if isinstance(columns, ItemMapping) else ROW_GROUPS.get(fmt)
    return RecordStream(source, fmt, parse, records, group_of=group_of)


def _resolve(
    fmt: str,
    mapping: Mapping | ItemMapping | StepMapping | None,
    first: dict[str, Any],
    columns: list[str] | None,
    name: str,
) -> tuple[str, Parser]:
    if mapping is not None:
        mapping.check_columns(columns or list(first), name)
        return fmt, mapping.parse
    if fmt == "auto":
        detected = detect(first)
        if detected is None:
            keys = ", ".join(sorted(first)[:20])
            raise FormatError(
                f"{name}: cannot tell the format from the first record's fields ({keys}); "
                f"choose one of {', '.join(f for f in FORMATS[1:] if f != 'mapping')}, "
                "or give a column mapping"
            )
        fmt = detected
    return fmt, _PARSERS[fmt]
