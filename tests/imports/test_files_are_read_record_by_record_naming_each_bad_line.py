"""webapp.imports.formats reads JSON Lines, JSON arrays, CSV and Parquet, plain or gzip, record
by record: each bad record is reported on its line and the rest go on; a file that cannot be
read at all is a FormatError. No database needed."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from tests.imports.helpers import DATA, HH, read, write_jsonl
from webapp.imports import containers
from webapp.imports.formats import (
    FormatError,
    ParsedPair,
    RecordError,
    RecordStream,
    open_records,
)


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
