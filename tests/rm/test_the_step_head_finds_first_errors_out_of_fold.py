"""The process reward head: targets from first-error labels, step texts, out-of-fold P(correct),
solution scores (min, product, last), the predicted first error and ProcessBench's F1, on
hand-checked cases and on a synthetic task where one direction marks a wrong step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from workers.rm.config import StepConfig
from workers.rm.step_eval import (
    all_correct_baseline,
    first_errors,
    processbench_scores,
    random_step_baseline,
    solution_scores,
)
from workers.rm.steps import (
    StepLayout,
    embed_steps,
    step_targets,
    step_texts,
    targets_from_ratings,
    train_steps,
)


def test_targets_are_right_before_the_first_error_wrong_at_it_and_unknown_after() -> None:
    np.testing.assert_array_equal(step_targets(n_steps=4, first_error=2), [1, 1, 0, np.nan])
    np.testing.assert_array_equal(step_targets(n_steps=3, first_error=-1), [1, 1, 1])
    assert np.isnan(step_targets(n_steps=2, first_error=None)).all()
    with pytest.raises(ValueError, match="out of range"):
        step_targets(n_steps=2, first_error=2)
    # a neutral step counts as right; nothing after the first bad one is known
    np.testing.assert_array_equal(targets_from_ratings([1, 0, -1, 1]), [1, 1, 0, np.nan])


def test_each_step_text_holds_the_problem_and_the_solution_up_to_that_step() -> None:
    texts = step_texts(problem="2+2?", steps=["Two plus two.", "It is 4."])
    assert texts == [
        "User: 2+2?\nAssistant: Two plus two.",
        "User: 2+2?\nAssistant: Two plus two.\n\nIt is 4.",
    ]


class _Lengths:
    """A stand-in encoder: a text's vector is (its length, 1), so the rows can be checked."""

    cache_key: dict[str, Any] = {"stand-in": True}

    def encode(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_embed_steps_lays_out_context_then_step_alone_per_step() -> None:
    x, layout = embed_steps(
        problems=["Q", "R"], solutions=[["ab", "c"], ["defg"]], encoder=_Lengths()
    )
    assert list(layout.offsets) == [0, 2, 3]
    context = [len("User: Q\nAssistant: ab"), len("User: Q\nAssistant: ab\n\nc")]
    context.append(len("User: R\nAssistant: defg"))
    np.testing.assert_array_equal(x[:, 0], context)
    np.testing.assert_array_equal(x[:, 2], [2, 1, 4])


def test_solution_scores_and_the_first_error_on_a_hand_checked_case() -> None:
    per_step = [np.array([0.9, 0.4, 0.8]), np.array([0.7, 0.6])]
    np.testing.assert_allclose(solution_scores(per_step, "min"), [0.4, 0.6])
    np.testing.assert_allclose(solution_scores(per_step, "product"), [0.288, 0.42])
    np.testing.assert_allclose(solution_scores(per_step, "last"), [0.8, 0.6])
    assert list(first_errors(per_step, threshold=0.5)) == [1, -1]
    assert list(first_errors(per_step, threshold=0.65)) == [1, 1]


def test_processbench_f1_is_the_harmonic_mean_of_the_two_accuracies() -> None:
    labels = [1, 2, -1, -1, 0]
    predicted = [1, 0, -1, 2, 0]  # 2 of 3 erroneous found exactly; 1 of 2 correct ones
    scores = processbench_scores(predicted, labels)
    assert scores["error_accuracy"] == pytest.approx(2 / 3)
    assert scores["correct_accuracy"] == pytest.approx(1 / 2)
    assert scores["f1"] == pytest.approx(2 * (2 / 3) * (1 / 2) / (2 / 3 + 1 / 2))
    always = processbench_scores(all_correct_baseline([3, 3, 2, 4, 1]), labels)
    assert (always["error_accuracy"], always["correct_accuracy"], always["f1"]) == (0, 1, 0)
    drawn = random_step_baseline([3] * 1000, seed=0)
    assert set(drawn) == {-1, 0, 1, 2}


def _planted(n: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray, StepLayout, list[int]]:
    """Solutions of 2-6 steps; a wrong step leans along one hidden direction, right ones
    against it; steps after the first error are random."""
    rng = np.random.default_rng(seed)
    direction = rng.standard_normal(dim)
    direction /= np.linalg.norm(direction)
    lengths = rng.integers(2, 7, size=n)
    labels = [int(rng.integers(-1, k)) if rng.random() < 0.6 else -1 for k in lengths]
    rows, targets = [], []
    for k, label in zip(lengths, labels, strict=True):
        t = step_targets(n_steps=int(k), first_error=label)
        for target in t:
            lean = {1.0: -1.0, 0.0: 1.5}.get(float(target), rng.choice([-1.0, 1.5]))
            v = rng.standard_normal(dim) * 0.5 + lean * direction
            rows.append(v / np.linalg.norm(v))
        targets.append(t)
    return (
        np.array(rows, dtype=np.float32),
        np.concatenate(targets),
        StepLayout.of([int(k) for k in lengths]),
        labels,
    )


def test_the_out_of_fold_head_finds_planted_first_errors_and_beats_the_baselines() -> None:
    x, targets, layout, labels = _planted(300, 16, seed=1)
    config = StepConfig(n_models=2, n_folds=4, epochs=30, seed=3)
    result = train_steps(x=x, targets=targets, layout=layout, config=config)
    assert result.p_correct.shape == (layout.n_steps,) and result.p_heads.shape[1] == 2
    per_step = layout.split(result.p_correct)
    model = processbench_scores(first_errors(per_step, threshold=0.5), labels)
    n_steps = np.diff(layout.offsets)
    chance = processbench_scores(random_step_baseline(n_steps, seed=0), labels)
    assert model["f1"] > 0.8 > chance["f1"]
    # a wrong step scores below the right ones of its solution
    known = np.isfinite(targets)
    assert result.p_correct[known & (targets == 0)].mean() < 0.3
    assert result.p_correct[known & (targets == 1)].mean() > 0.7


def test_each_step_is_scored_only_by_heads_that_never_saw_its_solution() -> None:
    x, targets, layout, _ = _planted(80, 8, seed=2)
    config = StepConfig(n_models=1, n_folds=4, epochs=5, seed=0)
    first = train_steps(x=x, targets=targets, layout=layout, config=config)
    # Changing one fold's labels moves no P(correct) of that fold's own steps.
    in_fold = first.fold[layout.solution_of_step] == 0
    flipped = np.where(in_fold & np.isfinite(targets), 1.0 - targets, targets)
    second = train_steps(x=x, targets=flipped, layout=layout, config=config)
    np.testing.assert_allclose(second.p_correct[in_fold], first.p_correct[in_fold], atol=1e-6)
    assert not np.allclose(second.p_correct[~in_fold], first.p_correct[~in_fold], atol=1e-3)
