"""webapp.imports reads step-by-step solutions (ProcessBench, BIG-Bench-Mistake, PRM800K, the
stepwise layout and a mapping with a `steps` target) into ParsedSteps, and names the file,
line and field of a bad record. No database needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import shared_data
from tests.imports.helpers import error, only, read, write_jsonl
from webapp.imports.formats import FormatError, ParsedSteps, RecordError, open_records

PB = {
    "id": "gsm8k-7",
    "generator": "m",
    "problem": "2 + 2 * 3?",
    "steps": ["2 * 3 = 6.", "2 + 6 = 9.", "The answer is 9."],
    "final_answer_correct": False,
    "label": 1,
}
BBM = {"input": "Q", "steps": ["a", "b"], "target": "(A)", "answer": "(A)", "mistake_index": None}


def _prm(steps: list[dict[str, Any]], finish: str = "found_error") -> dict[str, Any]:
    return {
        "labeler": "lab-1",
        "question": {
            "problem": "1 + 1?",
            "ground_truth_answer": "2",
            "pre_generated_steps": ["one", "plus one", "# Answer\n\n3"],
            "pre_generated_answer": "3",
        },
        "label": {"steps": steps, "finish_reason": finish},
    }


def _step(*ratings: int, chosen: int | None = 0, texts: list[str] | None = None) -> dict[str, Any]:
    texts = texts or [f"t{i}" for i in range(len(ratings))]
    completions = [{"text": t, "rating": r} for t, r in zip(texts, ratings, strict=True)]
    return {"completions": completions, "chosen_completion": chosen, "human_completion": None}


def _pretty(path: Path, *records: Any) -> Path:
    path.write_text("".join(json.dumps(r, indent=4) + "\n" for r in records))
    return path


def test_processbench_gives_the_first_wrong_step_and_the_answer_flag(tmp_path: Path) -> None:
    path = tmp_path / "pb.json"
    path.write_text(json.dumps([PB, {**PB, "id": "gsm8k-8", "label": -1}], indent=2))
    stream = open_records(path)
    assert stream.format == "processbench" and stream.is_steps
    first, second = list(stream)
    assert isinstance(first, ParsedSteps) and isinstance(second, ParsedSteps)
    assert (first.line, first.first_error, first.final_answer_correct) == (2, 1, False)
    assert first.steps == PB["steps"] and first.model == "m" and first.external_id == "gsm8k-7"
    assert second.first_error == -1 and second.ratings == []


def test_bbm_reads_a_null_mistake_as_all_correct_and_compares_the_answer(tmp_path: Path) -> None:
    item = only(read(write_jsonl(tmp_path / "b.jsonl", BBM)))
    assert isinstance(item, ParsedSteps)
    assert (item.first_error, item.final_answer_correct) == (-1, True)
    item = only(
        read(write_jsonl(tmp_path / "c.jsonl", {**BBM, "answer": "(B)", "mistake_index": 1}))
    )
    assert isinstance(item, ParsedSteps)
    assert (item.first_error, item.final_answer_correct) == (1, False)


def test_prm800k_follows_the_chosen_completions_and_stops_at_the_error(tmp_path: Path) -> None:
    record = _prm(
        [
            _step(1, texts=["one"]),
            _step(0, texts=["plus one"]),
            _step(1, -1, chosen=None, texts=["# Answer\n\n2", "# Answer\n\n3"]),
        ]
    )
    path = _pretty(tmp_path / "prm.json", record, _prm([_step(1), _step(1)], finish="give_up"))
    stream = open_records(path)
    assert stream.format == "prm800k"
    first, second = list(stream)
    assert isinstance(first, ParsedSteps) and isinstance(second, ParsedSteps)
    # The labeller's error is the completion rated -1, not the first one shown.
    assert first.steps == ["one", "plus one", "# Answer\n\n3"]
    assert (first.ratings, first.first_error, first.annotator) == ([1, 0, -1], 2, "lab-1")
    assert (first.final_answer, first.reference_answer, first.final_answer_correct) == (
        "3",
        "2",
        False,
    )
    assert first.line == 1 and second.line == 1 + json.dumps(record, indent=4).count("\n") + 1
    # Gave up after two good steps: nothing says the rest is right.
    assert second.first_error is None and second.final_answer_correct is None


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        ({**PB, "label": 3}, "label", "step index 3 is out of range: the solution has 3 steps"),
        ({**PB, "label": "1"}, "label", "expected a step index (an integer), got a string"),
        ({**PB, "steps": "one. two."}, "steps", "expected a list of steps, got a string"),
        ({**PB, "steps": ["ok", 7]}, "steps", "step 2: expected a string, got a number"),
        ({**PB, "steps": ["ok", " "]}, "steps", "step 2: the text is empty"),
        ({**PB, "steps": []}, "steps", "the solution has no steps"),
        ({**PB, "final_answer_correct": "yes"}, "final_answer_correct", "expected true, false"),
        ({**BBM, "mistake_index": 2}, "mistake_index", "step index 2 is out of range"),
    ],
)
def test_a_bad_step_record_is_reported_by_line_and_field(
    tmp_path: Path, record: dict[str, Any], field: str, reason: str
) -> None:
    good = PB if "problem" in record else BBM
    items = read(write_jsonl(tmp_path / "s.jsonl", good, record, good))
    assert [type(i).__name__ for i in items] == ["ParsedSteps", "RecordError", "ParsedSteps"]
    bad = items[1]
    assert isinstance(bad, RecordError)
    assert (bad.file, bad.line, bad.field) == ("s.jsonl", 2, field)
    assert bad.reason.startswith(reason)


def test_a_bad_prm800k_rating_names_its_nested_field(tmp_path: Path) -> None:
    record = _prm([_step(1), _step(5)])
    path = _pretty(tmp_path / "prm.json", _prm([_step(1)]), record)
    first, bad = read(path)
    assert isinstance(first, ParsedSteps) and isinstance(bad, RecordError)
    assert bad.field == "label.steps[1].completions[0].rating"
    assert bad.reason == "step 2: expected a rating of -1, 0, 1 or a boolean, got 5"


def test_a_step_mapping_reads_any_columns_and_checks_labels_against_steps(tmp_path: Path) -> None:
    rows = [
        {"q": "Q1", "sol": ["a", "b", "c"], "marks": [True, True, False], "who": "ann"},
        {"q": "Q2", "sol": ["a", "b"], "marks": [1, 0]},
        {"q": "Q3", "sol": ["a", "b"], "marks": [1]},
    ]
    mapping = {"prompt": "q", "steps": "sol", "step_labels": "marks", "annotator": "who"}
    first, second, third = read(write_jsonl(tmp_path / "m.jsonl", *rows), mapping=mapping)
    assert isinstance(first, ParsedSteps) and isinstance(second, ParsedSteps)
    assert (first.ratings, first.first_error, first.annotator) == ([1, 1, -1], 2, "ann")
    assert (second.ratings, second.first_error) == ([1, 0], -1)
    assert error([third]) == (3, "marks", "1 labels for 2 steps")


def test_a_step_mapping_with_an_unknown_target_fails_the_file(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "m.jsonl", {"q": "Q", "sol": ["a"]})
    with pytest.raises(FormatError, match=r"m\.jsonl: bad column mapping: unknown target"):
        read(path, mapping={"prompt": "q", "steps": "sol", "chosen": "x"})


def test_the_stepwise_layout_reads_back_standard_and_conversational(tmp_path: Path) -> None:
    standard = {"prompt": "Q", "completions": ["a", "b", "c"], "labels": [True, True, False]}
    conversational = {
        "prompt": [{"role": "user", "content": "Q"}],
        "completions": [{"role": "assistant", "content": s} for s in "abc"],
        "labels": [True, False, False],
    }
    stream = open_records(write_jsonl(tmp_path / "w.jsonl", standard, conversational))
    assert stream.format == "stepwise"
    first, second = list(stream)
    assert isinstance(first, ParsedSteps) and isinstance(second, ParsedSteps)
    assert (first.problem, first.steps, first.first_error) == ("Q", ["a", "b", "c"], 2)
    assert (second.problem, second.steps, second.first_error) == ("Q", ["a", "b", "c"], 1)


@pytest.mark.parametrize(
    ("name", "fmt", "records", "all_correct"),
    [
        ("steps/processbench-gsm8k.json", "processbench", 400, 193),
        ("steps/processbench-math.json", "processbench", 1000, 406),
        ("steps/bbm-logical_deduction.jsonl", "bbm", 300, 6),
        ("steps/bbm-multistep_arithmetic.jsonl", "bbm", 300, 62),
        ("steps/prm800k-phase2-sample.json", "prm800k", 9, 0),
    ],
)
def test_the_real_step_files_parse_whole(
    name: str, fmt: str, records: int, all_correct: int
) -> None:
    stream = open_records(shared_data(name))
    items = list(stream)
    assert stream.format == fmt
    assert len(items) == records and all(isinstance(i, ParsedSteps) for i in items)
    assert sum(i.first_error == -1 for i in items if isinstance(i, ParsedSteps)) == all_correct
