"""webapp.imports.formats: files in, ParsedPair | RecordError out. No database needed."""

from __future__ import annotations

import ast
import csv
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import shared_data
from webapp.imports import containers
from webapp.imports.formats import (
    FormatError,
    ParsedPair,
    RecordError,
    RecordStream,
    open_records,
)

DATA = Path(__file__).resolve().parent / "data"
HH = {
    "chosen": "\n\nHuman: Hi there\n\nAssistant: Hello!",
    "rejected": "\n\nHuman: Hi there\n\nAssistant: Go away.",
}


def read(path: Path, **kwargs: Any) -> list[ParsedPair | RecordError]:
    return list(open_records(path, **kwargs))


def write_jsonl(path: Path, *records: Any) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def only(items: list[ParsedPair | RecordError]) -> ParsedPair | RecordError:
    assert len(items) == 1, items
    return items[0]


def error(items: list[ParsedPair | RecordError]) -> tuple[int, str, str]:
    item = only(items)
    assert isinstance(item, RecordError), item
    return item.line, item.field, item.reason


# --- Containers --------------------------------------------------------------------------------


def test_it_reads_real_hh_records_into_conversations() -> None:
    items = read(DATA / "hh-rlhf-sample.jsonl")
    first, second = items[:2]
    assert isinstance(first, ParsedPair) and isinstance(second, ParsedPair)
    assert first.line == 1 and first.label == "a"
    assert first.prompt == [
        {
            "role": "user",
            "content": "Do you know why turkeys became the official food of thanksgiving?",
        }
    ]
    assert first.response_a.startswith("To be honest, I don\u2019t know anything")
    assert first.response_b.startswith("I know that the American Indians")
    assert [m["role"] for m in second.prompt] == ["user", "assistant", "user", "assistant", "user"]
    assert second.prompt[2] == {"role": "user", "content": "I am in Oregon."}
    assert second.prompt[4]["content"] == "Great. What are some common species then?"
    assert second.metadata == {} and second.votes == []


def test_it_keeps_a_pair_whose_chosen_equals_rejected() -> None:
    degenerate = read(DATA / "hh-rlhf-sample.jsonl")[2]
    assert isinstance(degenerate, ParsedPair)
    assert degenerate.line == 3
    assert degenerate.response_a == degenerate.response_b


def test_it_reports_an_hh_pair_whose_prompts_differ() -> None:
    broken = read(DATA / "hh-rlhf-sample.jsonl")[3]
    assert isinstance(broken, RecordError)
    assert (broken.file, broken.line, broken.field) == ("hh-rlhf-sample.jsonl", 4, "rejected")
    assert broken.reason.startswith("does not share chosen's prompt")
    assert "turn 2" in broken.reason


def test_it_reports_the_line_of_a_broken_record(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", HH, HH, '{"chosen": "x", "rejected": ', HH)
    items = read(path)
    assert [type(i).__name__ for i in items] == [
        "ParsedPair",
        "ParsedPair",
        "RecordError",
        "ParsedPair",
    ]
    assert isinstance(items[2], RecordError)
    assert items[2].line == 3 and items[2].file == "p.jsonl"
    assert items[2].reason.startswith("invalid JSON: Expecting value")
    assert items[3].line == 4


def test_it_names_the_file_as_told(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "upload-123.jsonl", HH, "nope")
    assert read(path, display_name="mine.jsonl")[1].file == "mine.jsonl"  # type: ignore[union-attr]


def test_it_reports_invalid_utf8_and_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(json.dumps(HH).encode() + b'\n{"chosen": "\xff"}\n' + json.dumps(HH).encode())
    items = read(path)
    assert isinstance(items[1], RecordError)
    assert (items[1].line, items[1].reason) == (2, "invalid UTF-8 at byte 13 of the line")
    assert isinstance(items[2], ParsedPair) and items[2].line == 3


def test_it_strips_a_utf8_bom_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps(HH).encode() + b"\n\n  \r\n" + json.dumps(HH).encode()
    )
    assert [i.line for i in read(path)] == [1, 4]


def test_it_reports_a_record_that_is_not_an_object(tmp_path: Path) -> None:
    items = read(write_jsonl(tmp_path / "p.jsonl", HH, "[1, 2]"))
    assert items[1] == RecordError("p.jsonl", 2, "", "expected a JSON object, got a list")


def test_it_rejects_nan_which_is_not_json(tmp_path: Path) -> None:
    items = read(write_jsonl(tmp_path / "p.jsonl", HH, '{"chosen": "a", "score": NaN}'))
    assert items[1] == RecordError("p.jsonl", 2, "", "invalid JSON: NaN is not valid JSON")


def test_it_reads_gzip_and_reports_progress_in_compressed_bytes(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.writelines(json.dumps(HH) + "\n" for _ in range(3000))
    stream = open_records(path)
    assert (stream.format, stream.size) == ("hh", path.stat().st_size)
    positions = []
    for _ in stream:
        positions.append(stream.position)
    assert positions == sorted(positions) and 0 < positions[0] <= stream.size
    assert stream.position == stream.size and len(positions) == 3000


def test_it_raises_format_error_for_a_file_that_is_not_gzip(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl.gz", HH)
    with pytest.raises(FormatError, match=r"^p\.jsonl\.gz: cannot read the file at the start"):
        open_records(path)


def test_it_keeps_the_records_before_a_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.writelines(json.dumps({**HH, "id": i}) + "\n" for i in range(20000))
    path.write_bytes(path.read_bytes()[:-2000])
    seen = []
    with pytest.raises(FormatError, match=r"p\.jsonl\.gz: cannot read the file after line \d+"):
        for item in open_records(path):
            seen.append(item)
    assert len(seen) > 1000 and all(isinstance(i, ParsedPair) for i in seen)


def test_it_gives_json_array_elements_their_real_line_numbers() -> None:
    items = read(DATA / "pandalm-sample.json")
    lines = [
        n for n, text in enumerate((DATA / "pandalm-sample.json").open(), 1) if text == "    {\n"
    ]
    assert [i.line for i in items] == lines == [2, 14, 26, 38, 50]


def test_it_reads_jsonl_content_in_a_json_file(tmp_path: Path) -> None:
    items = read(write_jsonl(tmp_path / "p.json", HH, HH))
    assert [i.line for i in items] == [1, 2] and all(isinstance(i, ParsedPair) for i in items)


def test_it_keeps_the_records_before_a_break_in_a_json_array(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("[\n" + json.dumps(HH) + ",\n" + json.dumps(HH) + ",\n\n  {oops}\n]")
    items = read(path)
    assert [type(i).__name__ for i in items] == ["ParsedPair", "ParsedPair", "RecordError"]
    assert items[2].line == 5  # type: ignore[union-attr]
    assert items[2].reason.startswith("broken JSON array: Expecting property name")  # type: ignore[union-attr]


def test_it_reports_a_missing_comma_in_a_json_array(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("[" + json.dumps(HH) + "\n" + json.dumps(HH) + "]")
    assert read(path)[1] == RecordError(
        "p.json", 2, "", "broken JSON array: expected ',' or ']', found '{'"
    )


def test_it_reads_a_json_array_larger_than_one_read_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(containers, "_CHUNK", 7)  # every element now spans several reads
    records = [
        {**HH, "id": 1, "n": [1.5, -20, True, None], "s": 'q"\\\u00e9\n' * 9},
        {**HH, "id": 22, "esc": "\\u00e9 \U0001f600 " * 5, "nested": {"a": [{"b": "c"}]}},
        {**HH, "id": 333, "big": 12345678901234567890},
    ]
    path = tmp_path / "p.json"
    text = json.dumps(records, indent=2, ensure_ascii=False) + "\n\n"
    path.write_text(text)
    items = read(path)
    assert [i.external_id for i in items] == ["1", "22", "333"]  # type: ignore[union-attr]
    assert [i.metadata for i in items] == [  # type: ignore[union-attr]
        {k: v for k, v in r.items() if k not in ("chosen", "rejected", "id")} for r in records
    ]
    assert [i.line for i in items] == [n for n, t in enumerate(text.splitlines(), 1) if t == "  {"]


def test_it_reports_invalid_utf8_in_a_json_array_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    body = json.dumps(HH).encode()
    path.write_bytes(b"[\n" + body + b',\n{\n"chosen": "\xc3\x28"},\n' + body + b"]")
    items = read(path)
    assert items[1] == RecordError("p.json", 3, "", "invalid UTF-8")
    assert isinstance(items[2], ParsedPair) and items[2].line == 5


def test_it_reports_text_after_a_json_array(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("[" + json.dumps(HH) + "]\n\n[]")
    assert read(path)[1] == RecordError(
        "p.json", 3, "", "unexpected text after the end of the array"
    )


def test_it_reads_csv_with_multiline_cells_and_row_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(["question", "good", "bad", "source"])
        writer.writerow(["What is 2+2?", "4", "Five,\nI think", "web"])
        writer.writerow(["Say hi", "hi", "no"])
        writer.writerow(["Café?", "Oui", "Non", ""])
    items = read(path, mapping={"prompt": "question", "chosen": "good", "rejected": "bad"})
    assert isinstance(items[0], ParsedPair) and items[0].line == 2
    assert (items[0].prompt, items[0].response_b, items[0].metadata) == (
        "What is 2+2?",
        "Five,\nI think",
        {"source": "web"},
    )
    assert items[1] == RecordError("p.csv", 4, "", "expected 4 columns, got 3")
    assert isinstance(items[2], ParsedPair) and items[2].line == 5 and items[2].prompt == "Café?"


def test_it_reports_invalid_utf8_in_a_csv_cell(tmp_path: Path) -> None:
    path = tmp_path / "p.csv.gz"
    path.write_bytes(gzip.compress(b"q,a,b\nhi,\xff,yo\nhi,ok,yo\n"))
    items = read(path, mapping={"prompt": "q", "response_a": "a", "response_b": "b"})
    assert items[0] == RecordError("p.csv.gz", 2, "a", "invalid UTF-8")
    assert isinstance(items[1], ParsedPair) and items[1].label == ""


def test_it_reads_parquet_rows_with_conversations(tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    turn = [{"role": "user", "content": "Hi"}]
    table = pa.table(
        {
            "prompt": [turn, turn, turn],
            "chosen": [[{"role": "assistant", "content": "Hello"}]] * 3,
            "rejected": [
                [{"role": "assistant", "content": "Go"}],
                None,
                [{"role": "assistant", "content": "No"}],
            ],
            "when": [dt.datetime(2024, 5, 1, 12, 0)] * 3,
            "score": [1.5, float("nan"), 2.0],
        }
    )
    path = tmp_path / "p.parquet"
    pq.write_table(table, path)
    stream = open_records(path)
    items = list(stream)
    assert stream.format == "trl" and stream.position == stream.size
    assert isinstance(items[0], ParsedPair) and items[0].line == 1
    assert (items[0].prompt, items[0].response_a, items[0].response_b) == (turn, "Hello", "Go")
    assert items[0].metadata == {"when": "2024-05-01T12:00:00", "score": 1.5}
    assert items[1] == RecordError("p.parquet", 2, "rejected", "expected a string, got null")
    assert isinstance(items[2], ParsedPair) and items[2].line == 3


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("p.txt", b"x", r"p\.txt: unknown file type; expected \.jsonl, \.json, \.csv, \.parquet"),
        ("p.parquet.gz", b"x", r"p\.parquet\.gz: Parquet files are compressed inside"),
        ("p.parquet", b"not parquet", r"p\.parquet: not a readable Parquet file"),
        ("p.jsonl", b"", r"p\.jsonl: the file holds no records"),
        ("p.json", b" [ ]\n", r"p\.json: the file holds no records"),
        ("p.csv", b"prompt,chosen,rejected\n", r"p\.csv: the file holds no records"),
        ("p.jsonl", b"{\n}\n", r"p\.jsonl: line 1: one JSON object over several lines"),
        (
            "p.jsonl",
            b"oops\n[]\n",
            r"p\.jsonl: no readable record \(2 unreadable\); line 1: invalid JSON",
        ),
        ("p.jsonl", b'{"a": 1}\n', r"p\.jsonl: cannot tell the format .* \(a\)"),
    ],
)
def test_it_raises_format_error_for_whole_file_problems(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FormatError, match=message):
        open_records(path)


def test_it_raises_format_error_for_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"^gone\.jsonl: cannot open the file"):
        open_records(tmp_path / "gone.jsonl")


def test_it_streams_once_and_closes_its_file(tmp_path: Path) -> None:
    stream = open_records(write_jsonl(tmp_path / "p.jsonl", HH, HH))
    assert isinstance(stream, RecordStream)
    iterator = iter(stream)
    next(iterator)
    stream.close()
    assert list(iterator) == []
    with pytest.raises(RuntimeError, match="only once"):
        iter(stream).__next__()


# --- Formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "fmt"),
    [
        (HH, "hh"),
        ({"prompt": "Hi", "chosen": "Hello", "rejected": "Go"}, "trl"),
        ({"chosen": [{"role": "user", "content": "Hi"}], "rejected": []}, "trl"),
        ({"instruction": "Say hi", "response1": "hi", "response2": "yo"}, "pandalm"),
    ],
)
def test_it_detects_each_format_from_the_first_record(
    tmp_path: Path, record: Any, fmt: str
) -> None:
    assert open_records(write_jsonl(tmp_path / "p.jsonl", record)).format == fmt


@pytest.mark.parametrize(
    ("record", "fmt", "field", "reason"),
    [
        ({"chosen": HH["chosen"]}, "hh", "rejected", "the field is missing"),
        ({**HH, "chosen": 42}, "hh", "chosen", "expected a string, got a number"),
        (
            {**HH, "rejected": "\n\nHuman: Hi there"},
            "hh",
            "rejected",
            'the transcript has no "\\n\\nAssistant:" turn',
        ),
        (
            {**HH, "rejected": "\n\nHuman: Hi\n\nAssistant: Go."},
            "hh",
            "rejected",
            "does not share chosen's prompt: the conversations before the last Assistant turn "
            "differ from turn 1 on",
        ),
        (
            {"chosen": "Hi\n\nAssistant: a", "rejected": "Hi\n\nAssistant: b"},
            "hh",
            "chosen",
            'the transcript does not start with a "Human:" turn',
        ),
        ({**HH, "id": 1.5}, "hh", "id", "expected a string, got a number"),
        (
            {**HH, "chosen": HH["chosen"] + "\x00"},
            "hh",
            "chosen",
            "contains a NUL character, which PostgreSQL cannot store",
        ),
        (
            {**HH, "note": "\ud800"},
            "hh",
            "note",
            "contains an unpaired surrogate (a lone \\ud800-\\udfff escape)",
        ),
        ({"prompt": " ", "chosen": "a", "rejected": "b"}, "trl", "prompt", "the text is empty"),
        (
            {"prompt": "Hi", "chosen": True, "rejected": "b"},
            "trl",
            "chosen",
            "expected a string, got a boolean",
        ),
        (
            {"prompt": [{"role": "bot", "content": "x"}], "chosen": "a", "rejected": "b"},
            "trl",
            "prompt",
            "message 1: role must be user, assistant or system, not 'bot'",
        ),
        (
            {"prompt": [{"role": "user"}], "chosen": "a", "rejected": "b"},
            "trl",
            "prompt",
            "message 1: content: expected a string, got null",
        ),
        (
            {"chosen": "a", "rejected": "b"},
            "trl",
            "prompt",
            "the field is missing (needed unless chosen and rejected are conversations)",
        ),
        (
            {
                "chosen": [{"role": "user", "content": "a"}],
                "rejected": [{"role": "user", "content": "b"}],
            },
            "trl",
            "prompt",
            "no prompt: chosen and rejected share no messages at the start",
        ),
        ({"instruction": "Hi", "response1": "a"}, "pandalm", "response2", "the field is missing"),
        (
            {"instruction": "Hi", "response1": "a", "response2": "b", "annotator1": 3},
            "pandalm",
            "annotator1",
            "expected a vote of 0 (tie), 1 or 2, got 3",
        ),
        (
            {"instruction": "Hi", "response1": "a", "response2": "b", "annotator2": True},
            "pandalm",
            "annotator2",
            "expected a vote of 0 (tie), 1 or 2, got True",
        ),
    ],
)
def test_it_names_the_field_at_fault(
    tmp_path: Path, record: dict[str, Any], fmt: str, field: str, reason: str
) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", record)
    assert error(read(path, fmt=fmt)) == (1, field, reason)


def test_it_reads_trl_text_pairs_with_id_split_and_metadata(tmp_path: Path) -> None:
    record = {
        "prompt": "Hi",
        "chosen": "Hello",
        "rejected": "Go",
        "id": "x1",
        "split": "test",
        "score": 0.5,
    }
    pair = only(read(write_jsonl(tmp_path / "p.jsonl", record)))
    assert pair == ParsedPair(1, "Hi", "Hello", "Go", "a", "x1", "test", metadata={"score": 0.5})


def test_it_reads_conversational_trl_and_joins_several_messages(tmp_path: Path) -> None:
    prompt = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    chosen = [{"role": "assistant", "content": "Hello"}, {"role": "assistant", "content": "again"}]
    record = {
        "prompt": prompt,
        "chosen": chosen,
        "rejected": [{"role": "assistant", "content": "Go"}],
    }
    pair = only(read(write_jsonl(tmp_path / "p.jsonl", record)))
    assert isinstance(pair, ParsedPair)
    assert (pair.prompt, pair.response_a, pair.response_b) == (prompt, "Hello\n\nagain", "Go")


def test_it_takes_the_shared_start_of_implicit_trl_conversations_as_the_prompt(
    tmp_path: Path,
) -> None:
    user = {"role": "user", "content": "Hi"}
    records = [
        {
            "chosen": [user, {"role": "assistant", "content": "Hello"}],
            "rejected": [user, {"role": "assistant", "content": "Go"}],
        },
        {
            "chosen": [user, {"role": "assistant", "content": "Same"}],
            "rejected": [user, {"role": "assistant", "content": "Same"}],
        },
    ]
    first, same = read(write_jsonl(tmp_path / "p.jsonl", *records))
    assert isinstance(first, ParsedPair) and isinstance(same, ParsedPair)
    assert (first.prompt, first.response_a, first.response_b) == ([user], "Hello", "Go")
    assert (same.prompt, same.response_a, same.response_b) == ([user], "Same", "Same")


def test_it_reads_pandalm_votes_models_and_majority_label() -> None:
    first, with_input, split, split_b, boolean = read(DATA / "pandalm-sample.json")
    assert isinstance(first, ParsedPair)
    assert first.external_id == "0" and first.label == "b"
    assert (first.model_a, first.model_b) == ("bloom-7b", "llama-7b")
    assert first.votes == [("annotator1", "b"), ("annotator2", "b"), ("annotator3", "b")]
    assert first.metadata == {"motivation_app": "Grammarly", "cmp_key": "bloom-7b_llama-7b"}
    assert (
        first.prompt.startswith("The sentence you are given")
        and "\n\nIf you have any" in first.prompt
    )
    assert isinstance(split, ParsedPair) and split.label == "a"  # 1, 0, 1
    assert [v for _, v in split.votes] == ["a", "tie", "a"]
    assert isinstance(split_b, ParsedPair) and split_b.label == "a"  # 2, 1, 1
    assert boolean == RecordError(
        "pandalm-sample.json", 50, "response1", "expected a string, got a boolean"
    )
    assert isinstance(with_input, ParsedPair) and with_input.external_id == "34"


@pytest.mark.parametrize(
    ("votes", "label"),
    [
        (("1", "2", "0"), "tie"),
        ((" 2", 2, "1"), "b"),
        ((1, 2), "tie"),
        ((0, 0, 1), "tie"),
        ((), ""),
    ],
)
def test_it_labels_pandalm_pairs_by_strict_majority(
    tmp_path: Path, votes: tuple[Any, ...], label: str
) -> None:
    record = {
        "instruction": "Hi",
        "input": "",
        "response1": "a",
        "response2": "b",
        "cmp_key": "a_b_c",
    }
    record |= {f"annotator{k}": v for k, v in enumerate(votes, 1)}
    pair = only(read(write_jsonl(tmp_path / "p.jsonl", record)))
    assert isinstance(pair, ParsedPair)
    assert (pair.label, pair.prompt, pair.model_a, pair.model_b) == (label, "Hi", "", "")


def test_it_maps_columns_with_custom_label_values(tmp_path: Path) -> None:
    rows = [
        {
            "q": "Hi",
            "x": "a1",
            "y": "b1",
            "winner": "left",
            "src": "web",
            "m1": "gpt",
            "m2": "llama",
        },
        {
            "q": "Hi",
            "x": "a2",
            "y": "b2",
            "winner": "right",
            "src": "web",
            "m1": "gpt",
            "m2": "llama",
        },
        {"q": "Hi", "x": "a3", "y": "b3", "winner": "", "src": "web", "m1": "gpt", "m2": "llama"},
        {"q": "Hi", "x": "a4", "y": "b4", "winner": "A", "src": "web", "m1": "gpt", "m2": "llama"},
    ]
    mapping = {"prompt": "q", "response_a": "x", "response_b": "y", "label": "winner"}
    mapping |= {"label_a": "left", "label_b": "right", "model_a": "m1", "model_b": "m2"}
    left, right, unlabelled, unknown = read(
        write_jsonl(tmp_path / "p.jsonl", *rows), mapping=mapping
    )
    assert left == ParsedPair(
        1, "Hi", "a1", "b1", "a", model_a="gpt", model_b="llama", metadata={"src": "web"}
    )
    assert isinstance(right, ParsedPair) and right.label == "b"
    assert isinstance(unlabelled, ParsedPair) and unlabelled.label == ""
    assert unknown == RecordError(
        "p.jsonl", 4, "winner", "unknown label 'A'; expected one of 'left', 'right'"
    )


def test_it_maps_default_label_values(tmp_path: Path) -> None:
    rows = [{"p": "Hi", "a": "x", "b": "y", "l": value} for value in ("A", "2", 0, "tie", 1.0)]
    items = read(
        write_jsonl(tmp_path / "p.jsonl", *rows),
        mapping={"prompt": "p", "response_a": "a", "response_b": "b", "label": "l"},
    )
    assert [i.label for i in items] == ["a", "b", "tie", "tie", "a"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {"prompt": "q", "chosen": "nope", "rejected": "y"},
            r"the mapping names column\(s\) nope that the file does not have \(it has: q, x, y\)",
        ),
        ({"prompt": "q", "chosen": "x"}, "bad column mapping: rejected missing"),
        ({"prompt": "q", "chosen": "x", "rejected": "y", "label": "x"}, "not both"),
        (
            {"prompt": "q", "response_a": "x", "response_b": "y", "label_a": "1"},
            "need a label column",
        ),
        (
            {"prompt": "q", "chosen": "x", "rejected": "y", "weight": "x"},
            r"unknown target\(s\) 'weight'",
        ),
        ({"prompt": "", "chosen": "x", "rejected": "y"}, "prompt must name a column"),
    ],
)
def test_it_rejects_a_bad_mapping(tmp_path: Path, mapping: dict[str, str], message: str) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", {"q": "Hi", "x": "a", "y": "b"})
    with pytest.raises(FormatError, match=r"^p\.jsonl: .*" + message):
        open_records(path, mapping=mapping)


def test_it_refuses_a_mapping_with_another_format_and_an_unknown_format(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", HH)
    with pytest.raises(FormatError, match="goes with format 'mapping'"):
        open_records(path, fmt="hh", mapping={"prompt": "chosen"})
    with pytest.raises(FormatError, match="unknown format 'csv'"):
        open_records(path, fmt="csv")


def test_it_imports_no_django() -> None:
    package = Path(containers.__file__).parent
    for name in ("containers.py", "fields.py", "formats.py", "mapping.py"):
        tree = ast.parse((package / name).read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in imported if m.split(".")[0] in ("django", "celery")}, name


# --- The real files in ../shared/data beside the checkout, when present ------------------------


def errors_by_reason(items: list[ParsedPair | RecordError]) -> dict[tuple[str, str], list[int]]:
    found: dict[tuple[str, str], list[int]] = {}
    for e in items:
        if isinstance(e, RecordError):
            found.setdefault((e.field, e.reason.split(":")[0]), []).append(e.line)
    return found


def test_it_parses_the_real_hh_helpful_test_set() -> None:
    items = read(shared_data("hh-rlhf/helpful-base_test.jsonl.gz"))
    pairs = [i for i in items if isinstance(i, ParsedPair)]
    assert len(items) == 2354 and len(pairs) == 2345
    # The data's own flaws, not ours: nine pairs whose rejected transcript has extra or
    # different turns before its last Assistant turn.
    assert errors_by_reason(items) == {
        ("rejected", "does not share chosen's prompt"): [
            169,
            355,
            568,
            744,
            961,
            1012,
            1167,
            1308,
            1451,
        ],
    }
    # four empty rejected responses are real pairs, kept for the checks to flag
    assert [p.line for p in pairs if not p.response_b] == [121, 741, 1215, 2064]
    assert [p.line for p in pairs if p.response_a == p.response_b] == [722, 2169]
    assert all(p.prompt[0]["role"] == "user" and p.prompt[-1]["role"] == "user" for p in pairs)  # type: ignore[index]


def test_it_parses_the_real_hh_harmless_test_set() -> None:
    items = read(shared_data("hh-rlhf/harmless-base_test.jsonl.gz"))
    pairs = [i for i in items if isinstance(i, ParsedPair)]
    assert len(items) == 2312 and len(pairs) == 2307
    assert errors_by_reason(items) == {
        ("rejected", "does not share chosen's prompt"): [1255, 1689, 1951, 1953, 2037],
    }
    assert [p.line for p in pairs if not p.response_a] == [87, 517, 926, 1104]


def test_it_parses_the_real_pandalm_test_set() -> None:
    items = read(shared_data("pandalm/testset-v1.json"))
    pairs = [i for i in items if isinstance(i, ParsedPair)]
    assert len(items) == 999 and len(pairs) == 993
    assert all(len(p.votes) == 3 and p.model_a and p.model_b for p in pairs)
    found = {reason: len(lines) for reason, lines in errors_by_reason(items).items()}
    assert found == {
        ("response1", "expected a string, got a boolean"): 4,  # `true` where a model said "True"
        ("response2", "expected a string, got a boolean"): 2,
    }
    assert sum(1 for p in pairs if not p.response_a or not p.response_b) == 54  # empty, kept
    split = [p for p in pairs if len({v for _, v in p.votes}) > 1]  # all two against one
    assert len(split) == 116 and all([v for _, v in p.votes].count(p.label) == 2 for p in split)
    assert Counter(p.label for p in pairs) == {"b": 470, "a": 418, "tie": 105}
    assert pairs[-1].line == 11978  # real line numbers, not indexes
