"""Transitivity: a built cycle A > B > C > A is found; a transitive prompt and a duplicate
conflict (A > B and B > A) are not cycles."""

from __future__ import annotations

import numpy as np

from workers.rm.checks import preference_cycles


def test_a_three_cycle_is_found_and_a_transitive_prompt_is_not() -> None:
    # prompt 1: 10 > 11, 11 > 12, 12 > 10 (a cycle); prompt 2: 20 > 21, 21 > 22, 20 > 22
    prompt = np.array([1, 1, 1, 2, 2, 2])
    winner = np.array([10, 11, 12, 20, 21, 20])
    loser = np.array([11, 12, 10, 21, 22, 22])
    cycles = preference_cycles(prompt=prompt, winner=winner, loser=loser)
    assert cycles.on_cycle.tolist() == [True, True, True, False, False, False]
    assert cycles.triangles == [(0, 1, 2)]
    assert cycles.prompts_with_cycles == 1


def test_the_same_response_ids_under_two_prompts_are_different_responses() -> None:
    # 1 > 2 under prompt 7, 2 > 3 under prompt 8, 3 > 1 under prompt 9: no prompt has a cycle
    cycles = preference_cycles(
        prompt=np.array([7, 8, 9]), winner=np.array([1, 2, 3]), loser=np.array([2, 3, 1])
    )
    assert not cycles.on_cycle.any()


def test_a_duplicate_conflict_is_no_cycle_but_a_cycle_beside_it_is() -> None:
    # 1 > 2 and 2 > 1 (two pairs, opposite labels): a conflict, left to the duplicate check.
    # 3 > 4 > 5 > 3 plus a fourth response 6 that everything beats: only the triangle cycles.
    prompt = np.zeros(7, dtype=np.int64)
    winner = np.array([1, 2, 3, 4, 5, 3, 4])
    loser = np.array([2, 1, 4, 5, 3, 6, 6])
    cycles = preference_cycles(prompt=prompt, winner=winner, loser=loser)
    assert cycles.on_cycle.tolist() == [False, False, True, True, True, False, False]
    assert len(cycles.triangles) == 1
    assert sorted(cycles.triangles[0]) == [2, 3, 4]


def test_a_four_cycle_without_triangles_is_still_a_cycle() -> None:
    prompt = np.zeros(4, dtype=np.int64)
    cycles = preference_cycles(
        prompt=prompt, winner=np.array([1, 2, 3, 4]), loser=np.array([2, 3, 4, 1])
    )
    assert cycles.on_cycle.all()
    assert cycles.triangles == []
