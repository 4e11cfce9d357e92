"""Step flags on hand-checked cases: a human first error far from the model's, step labels that
contradict the final answer (both ways), and an annotator far out of line with the others."""

from __future__ import annotations

import pytest

from workers.rm.step_flags import (
    StepFlagConfig,
    final_answer_contradiction,
    first_error_far,
    outlying_annotators,
)


@pytest.mark.parametrize(
    ("human", "model", "n_steps", "far"),
    [
        (2, 2, 5, False),
        (2, 3, 5, False),
        (1, 3, 5, True),
        (-1, 4, 5, False),  # "none wrong" sits just past the last step: one apart
        (-1, 0, 5, True),
        (3, -1, 5, True),
    ],
)
def test_first_errors_far_apart(human: int, model: int, n_steps: int, far: bool) -> None:
    assert first_error_far(human=human, model=model, n_steps=n_steps, far_steps=2) is far


def test_the_final_answer_contradiction_flag_both_ways() -> None:
    assert (
        final_answer_contradiction(first_error=-1, final_answer_correct=False)
        == "steps_right_answer_wrong"
    )
    assert (
        final_answer_contradiction(first_error=2, final_answer_correct=True)
        == "step_wrong_answer_right"
    )
    assert final_answer_contradiction(first_error=-1, final_answer_correct=True) is None
    assert final_answer_contradiction(first_error=0, final_answer_correct=False) is None
    assert final_answer_contradiction(first_error=None, final_answer_correct=False) is None
    assert final_answer_contradiction(first_error=-1, final_answer_correct=None) is None


def test_an_annotator_far_above_the_others_disagreement_is_flagged() -> None:
    # Shares 0.10, 0.12, 0.08, 0.11 and 0.45: median 0.11, MAD 0.01 (scaled 0.0148), so the
    # bar is 0.11 + max(3 * 0.0148, 0.1) = 0.21; only 5 is above it. 6 has too few steps.
    disagreement = {1: (50, 0.10), 2: (40, 0.12), 3: (60, 0.08), 4: (30, 0.11), 5: (45, 0.45)}
    disagreement[6] = (5, 0.9)
    flagged = outlying_annotators(disagreement, config=StepFlagConfig())
    assert flagged == {5: {"disagree_share": 0.45, "median_share": 0.11, "steps": 45}}
    # two annotators are no crowd
    assert outlying_annotators({1: (50, 0.1), 2: (50, 0.5)}, config=StepFlagConfig()) == {}
