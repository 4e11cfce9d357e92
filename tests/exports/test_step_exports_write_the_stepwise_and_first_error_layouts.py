"""Step exports: a solution whose third step is wrong becomes, in the stepwise layout, its
first three steps labelled right, right, wrong (standard and conversational) and, in the
first-error layout, all its steps with label 2; ``datasets`` loads both, and PrefLab's own
step head trains from the exported file alone. Pure functions and files: no database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pytest

from webapp.exports.steps import (
    StepSolution,
    first_error_record,
    step_card,
    step_schema,
    stepwise_record,
    write_step_split,
)
from webapp.pairs.steps import labels_from_first_error
from workers.rm.config import StepConfig
from workers.rm.steps import StepLayout, read_stepwise, train_steps

THIRD_WRONG = StepSolution(
    item_id=11,
    problem="What is 2 + 3 * 4?",
    steps=["3 * 4 = 12.", "2 + 12 = 14.", "So it is 20.", "The answer is 20."],
    labels=[1, 0, -1, None],
    external_id="pb-3",
    model="m",
    final_answer_correct=False,
    label_source="majority",
    confidence=0.75,
    p_correct=[0.9, 0.8, 0.2, 0.3],
)


@pytest.fixture(autouse=True)
def _hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    datasets.disable_progress_bars()


def test_the_third_wrong_step_ends_the_stepwise_row_with_false() -> None:
    row = stepwise_record(THIRD_WRONG, style="standard")
    assert row is not None
    assert row["prompt"] == "What is 2 + 3 * 4?"
    assert row["completions"] == ["3 * 4 = 12.", "2 + 12 = 14.", "So it is 20."]
    assert row["labels"] == [True, True, False]  # the neutral second step counts as right
    assert row["p_correct"] == [0.9, 0.8, 0.2] and row["item_id"] == 11
    chat = stepwise_record(THIRD_WRONG, style="conversational")
    assert chat is not None
    assert chat["prompt"] == [{"role": "user", "content": "What is 2 + 3 * 4?"}]
    assert chat["completions"][2] == {"role": "assistant", "content": "So it is 20."}
    assert chat["labels"] == [True, True, False]


def test_the_first_error_row_keeps_every_step_and_the_index_of_the_wrong_one() -> None:
    row = first_error_record(THIRD_WRONG)
    assert row is not None
    assert (row["id"], row["generator"], row["label"]) == ("pb-3", "m", 2)
    assert row["steps"] == THIRD_WRONG.steps and row["final_answer_correct"] is False


def test_labels_implied_by_a_first_error_and_rows_that_have_none() -> None:
    assert labels_from_first_error(4, 2) == [1, 1, -1, None]
    assert labels_from_first_error(2, -1) == [1, 1]
    unknown = StepSolution(item_id=1, problem="Q", steps=["a"], labels=[None])
    assert stepwise_record(unknown, style="standard") is None
    assert first_error_record(unknown) is None
    # right so far, then unlabelled: the known prefix is exported, the first error is unknown
    partial = StepSolution(item_id=2, problem="Q", steps=["a", "b"], labels=[1, None])
    assert stepwise_record(partial, style="standard")["labels"] == [True]  # type: ignore[index]
    assert first_error_record(partial) is None


def _solutions(n: int) -> list[StepSolution]:
    out = []
    for i in range(n):
        k = i % 4 - 1  # -1, 0, 1, 2
        steps = [f"Step {j} of solution {i}: {'wrong' if j == k else 'fine'}." for j in range(3)]
        out.append(StepSolution(item_id=i, problem=f"Problem {i}", steps=steps,
                                labels=labels_from_first_error(3, k)))  # fmt: skip
    return out


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
@pytest.mark.parametrize("style", ["standard", "conversational"])
def test_datasets_loads_the_stepwise_file_and_the_step_head_trains_from_it_alone(
    tmp_path: Path, fmt: str, style: Any
) -> None:
    solutions = [THIRD_WRONG, *_solutions(23)]
    path = tmp_path / f"train.{fmt}"
    rows = [r for s in solutions if (r := stepwise_record(s, style=style)) is not None]
    written = write_step_split(
        rows, path=path, file_format=fmt, schema=step_schema(layout="stepwise", style=style)
    )
    assert written.rows == 24
    card = step_card(
        project="<b>p</b>",
        version=1,
        layout="stepwise",
        style=style,
        file_format=fmt,
        files=[(path.name, "train", written.rows, written.sha256)],
        left_out={"no step labelled": 0},
    )
    (tmp_path / "README.md").write_text(card)
    assert "&lt;b&gt;p&lt;/b&gt;" in card and "<b>" not in card
    loaded = datasets.load_dataset(str(tmp_path), cache_dir=str(tmp_path / "hf"))["train"]
    assert loaded.column_names[:3] == ["prompt", "completions", "labels"]
    assert len(loaded) == 24 and loaded[0]["labels"] == [True, True, False]
    problems, steps, targets = read_stepwise(path)
    assert problems[0] == THIRD_WRONG.problem and steps[0] == THIRD_WRONG.steps[:3]
    assert targets[:3].tolist() == [1.0, 1.0, 0.0]
    # the file alone is enough to train on: a stand-in embedding that says which steps are
    # wrong, so that what is checked is the reading, not the encoder
    x = np.array([[1.0, 0.0] if "wrong" in s or s == "So it is 20." else [0.0, 1.0]
                  for solution in steps for s in solution], dtype=np.float32)  # fmt: skip
    layout = StepLayout.of([len(s) for s in steps])
    result = train_steps(
        x=x, targets=targets, layout=layout, config=StepConfig(n_models=1, n_folds=3)
    )
    wrong = targets == 0
    assert result.p_correct[wrong].max() < 0.5 < result.p_correct[~wrong].min()


def test_datasets_loads_the_first_error_file(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    rows = [r for s in [THIRD_WRONG, *_solutions(7)] if (r := first_error_record(s)) is not None]
    write_step_split(
        rows,
        path=path,
        file_format="jsonl",
        schema=step_schema(layout="first_error", style="standard"),
    )
    loaded = datasets.load_dataset("json", data_files={"test": str(path)})["test"]
    assert loaded.column_names[:6] == [
        "id", "generator", "problem", "steps", "final_answer_correct", "label"
    ]  # fmt: skip
    assert loaded["label"] == [2, -1, 0, 1, 2, -1, 0, 1]
