"""Step-label agreement (per-step alpha, first-error agreement, gold accuracy) and aggregation
(majority, Dawid-Skene) on small cases worked by hand. Pure functions: no database."""

from __future__ import annotations

from typing import Any

import pytest

from webapp.labelling.step_agreement import (
    aggregate_first_errors,
    aggregate_steps,
    annotator_disagreement,
    first_error_agreement,
    first_error_of,
    gold_accuracy,
    step_alpha,
    step_tables,
)

A, B, C = 1, 2, 3


def _answer(steps: list[int | None], first_error: int | None = None) -> dict[str, Any]:
    return {"steps": steps, "first_error": first_error}


def test_the_first_error_is_read_from_the_steps_where_the_answer_has_none() -> None:
    assert first_error_of([1, 0, -1, None]) == 2  # stopped at the first bad step
    assert first_error_of([1, 1, 1]) == -1
    assert first_error_of([1, None, 1]) is None
    labels, errors = step_tables([(7, A, _answer([1, -1, None])), (7, B, _answer([], 3))])
    assert labels.values.tolist() == [[7, A, 0, 1], [7, A, 1, -1]]
    assert errors.values.tolist() == [[7, A, 1], [7, B, 3]]


def test_per_step_alpha_of_two_annotators() -> None:
    # Units (task, step): (1,0) 1/1, (1,1) 1/-1, (1,2) -1/-1, (2,0) 1/1, (2,1) -1/-1.
    # Coincidences: o(1,1) = 4, o(-1,-1) = 4, o(1,-1) = o(-1,1) = 1; n = 10, n_1 = n_-1 = 5.
    # D_o = 2/10, D_e = 2 * 5 * 5 / (10 * 9) = 50/90, alpha = 1 - 0.2 / (5/9) = 0.64.
    labels, _ = step_tables(
        [
            (1, A, _answer([1, 1, -1])),
            (1, B, _answer([1, -1, -1])),
            (2, A, _answer([1, -1])),
            (2, B, _answer([1, -1])),
        ]
    )
    assert step_alpha(labels, level="nominal") == pytest.approx(0.64)
    # Two values only: ordinal alpha equals nominal alpha.
    assert step_alpha(labels) == pytest.approx(0.64)
    # A lone annotator gives no pairable values.
    assert step_alpha(labels[labels["worker"] == A]) is None


def test_first_error_agreement_exact_and_within_one_step() -> None:
    # Solution 1: A 2, B 1, C 2 -> A-B within one, A-C exact, B-C within one.
    # Solution 2: A -1, B -1 -> exact. Solution 3: A -1, B 0 -> neither ("none" is far).
    _, errors = step_tables(
        [
            (1, A, _answer([], 2)),
            (1, B, _answer([], 1)),
            (1, C, _answer([], 2)),
            (2, A, _answer([], -1)),
            (2, B, _answer([], -1)),
            (3, A, _answer([], -1)),
            (3, B, _answer([], 0)),
        ]
    )
    result = first_error_agreement(errors)
    assert result == {"pairs": 5, "exact": pytest.approx(2 / 5), "within_one": pytest.approx(4 / 5)}


def test_gold_accuracy_per_annotator() -> None:
    labels, errors = step_tables(
        [
            (1, A, _answer([1, 1, -1, None])),  # gold 2: exact; steps 0-2 all right
            (2, A, _answer([-1, None])),  # gold -1: wrong; step 0 wrong, step 1 unlabelled
            (1, B, _answer([1, -1, None, None])),  # gold 2: within one; step 1 wrong
        ]
    )
    table = gold_accuracy(labels, errors, gold_first_errors={1: 2, 2: -1})
    assert table.loc[A, "n"] == 2
    assert table.loc[A, "first_error_exact"] == 0.5
    assert table.loc[A, "first_error_within_one"] == 0.5
    assert table.loc[A, "step_accuracy"] == pytest.approx(3 / 4)
    assert (table.loc[B, "first_error_exact"], table.loc[B, "first_error_within_one"]) == (0, 1)
    assert table.loc[B, "step_accuracy"] == pytest.approx(1 / 2)


def test_majority_gives_each_step_its_label_and_share() -> None:
    labels, _ = step_tables(
        [
            (5, A, _answer([1, 1, -1])),
            (5, B, _answer([1, -1, -1])),
            (5, C, _answer([1, 1, 0])),
        ]
    )
    table = aggregate_steps(labels, method="majority")
    assert table["label"].tolist() == [1, 1, -1]
    assert table["confidence"].tolist() == pytest.approx([1.0, 2 / 3, 2 / 3])
    assert table["n_votes"].tolist() == [3, 3, 3]
    assert aggregate_first_errors(table) == {5: 2}
    # B and C each differ from the aggregate once, A never.
    disagreement = annotator_disagreement(labels, table)
    assert disagreement["disagree_share"].to_dict() == pytest.approx({A: 0, B: 1 / 3, C: 1 / 3})


def test_dawid_skene_learns_each_annotators_confusion_where_majority_ties() -> None:
    # A and B label 30 steps the same way; C gives the opposite of A on every step. On the
    # 10 steps that only A and C labelled, majority has a tie; Dawid-Skene has learnt that
    # A is right (B confirms A everywhere) and that C's labels are inverted, so both point
    # the same way and it follows A with a confident posterior.
    answers = []
    for task in range(20):
        truth = [1, -1] if task % 2 else [1, 1]
        answers.append((task, A, _answer(truth)))
        answers.append((task, C, _answer([-t for t in truth])))
        if task < 15:
            answers.append((task, B, _answer(truth)))
    labels, _ = step_tables(answers)
    table = aggregate_steps(labels, method="dawid_skene")
    two_voted = table[table["task"] >= 15]
    expected = [label for task in range(15, 20) for label in ([1, -1] if task % 2 else [1, 1])]
    assert two_voted["label"].tolist() == expected
    assert (two_voted["confidence"] > 0.9).all()
