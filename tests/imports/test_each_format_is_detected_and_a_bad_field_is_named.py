"""webapp.imports.formats tells HH-RLHF, TRL, PandaLM and mapped files apart from their first
record, turns each into ParsedPair records, and names the field at fault in a bad one; the
readers import no Django. No database needed."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from tests.imports.helpers import DATA, HH, error, only, read, write_jsonl
from webapp.imports import containers
from webapp.imports.formats import (
    FormatError,
    ParsedPair,
    RecordError,
    open_records,
)


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
