"""A run of the checks on built cases: a label cycle, a duplicate conflict and a near-copy are
flagged once each, with source "checks"; running again replaces them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.checks.helpers import pair
from webapp.checks.services import CheckOptions, check_run_create, check_run_execute
from webapp.flags.models import Flag
from webapp.scoring.models import PairScore, ScoringRun


def _run(project: Any) -> Any:
    run = check_run_create(project=project, options=CheckOptions())
    return check_run_execute(run=run, progress=lambda *a: None)


def _built(project: Any) -> dict[str, Any]:
    return {
        # X > Y, Y > Z, Z > X under one prompt: a cycle of three responses
        "xy": pair(project, "Pick a colour", "red", "green"),
        "yz": pair(project, "Pick a colour", "green", "blue"),
        "zx": pair(project, "Pick a colour", "blue", "red"),
        # the same two responses twice, each time the other one chosen
        "dup1": pair(project, "Capital of France?", "Paris", "Lyon", "a"),
        "dup2": pair(project, "Capital of France?", "Lyon", "Paris", "a"),
        # transitive: no flag
        "t1": pair(project, "Count", "one two three", "one two"),
        "t2": pair(project, "Count", "one two", "one"),
        "t3": pair(project, "Count", "one two three", "one"),
        "near": pair(project, "Greet", "Hello there, friend!", "hello there,   friend!"),
    }


def test_the_built_cases_are_flagged_once_each(project: Any) -> None:
    built = _built(project)
    run = _run(project)
    assert run.complete
    flags = set(Flag.objects.filter(project=project).values_list("kind", "pair_id", "source"))
    ids = {k: p.pk for k, p in built.items()}
    assert flags == {
        ("label_cycle", ids["xy"], "checks"),
        ("label_cycle", ids["yz"], "checks"),
        ("label_cycle", ids["zx"], "checks"),
        ("duplicate_conflict", ids["dup1"], "checks"),
        ("duplicate_conflict", ids["dup2"], "checks"),
        ("near_identical", ids["near"], "checks"),
    }
    summary = run.summary
    assert summary["labels_cycles"]["prompts_with_cycles"] == 1
    [triangle] = summary["labels_cycles"]["triangles"]
    assert sorted(triangle) == sorted([ids["xy"], ids["yz"], ids["zx"]])
    assert summary["prompts_with_3plus_responses"] == 2
    # chosen longer: t1, t2, t3 (and the cycle and duplicates by their texts): hand count
    # red>green (3<5 no), green>blue (5>4 yes), blue>red (4>3 yes), Paris>Lyon (5>4 yes),
    # Lyon>Paris (no), t1 yes, t2 yes, t3 yes, near (20 vs 22: no) -> 6 of 9
    assert summary["length"]["labelled_pairs"] == 9
    assert summary["length"]["share_chosen_longer"] == 6 / 9
    assert summary["contrast"]["skipped"].startswith("no complete scoring run")


def test_running_again_replaces_the_checks_flags_and_keeps_the_others(project: Any) -> None:
    built = _built(project)
    manual = Flag.objects.create(
        project=project, pair=built["t1"], kind="ambiguous", source="review", severity=1
    )
    _run(project)
    first = set(Flag.objects.filter(source="checks").values_list("id", flat=True))
    built["zx"].imported_label = "b"  # red > blue now: no cycle
    built["zx"].save()
    _run(project)
    kinds = sorted(Flag.objects.filter(source="checks").values_list("kind", flat=True))
    assert kinds == ["duplicate_conflict", "duplicate_conflict", "near_identical"]
    assert not first & set(Flag.objects.values_list("id", flat=True))
    assert Flag.objects.filter(pk=manual.pk).exists()


@pytest.mark.parametrize("zx_mu", [-1.0, 1.0])
def test_scoring_flags_are_reused_and_ensemble_cycles_read_the_stored_mu(
    project: Any, zx_mu: float
) -> None:
    built = _built(project)
    scoring = ScoringRun.objects.create(project=project, complete=True)
    for key, p in built.items():
        mu = zx_mu if key == "zx" else 1.0  # -1: the ensemble breaks the cycle at z > x
        PairScore.objects.create(run=scoring, pair=p, label_scored="a", mu=mu, sigma=0.1,
                                 p_label=0.5, margins=[mu], decile=0)  # fmt: skip
    for key in ("dup1", "dup2"):
        Flag.objects.create(project=project, pair=built[key], kind="duplicate_conflict",
                            source="scoring", scoring_run=scoring, severity=4)  # fmt: skip
    run = _run(project)
    assert not Flag.objects.filter(source="checks", kind="duplicate_conflict").exists()
    assert run.summary["duplicate_conflicts"] == {"pairs": 2, "flagged_by_scoring": 2}
    cycle = set(Flag.objects.filter(kind="ensemble_cycle").values_list("pair_id", flat=True))
    if zx_mu < 0:
        assert cycle == set()
    else:
        # the ensemble agrees with the cyclic labels; the duplicates (mu +1 both, so Paris >
        # Lyon and Lyon > Paris) are a conflict, not a cycle
        assert cycle == {built["xy"].pk, built["yz"].pk, built["zx"].pk}
    assert run.summary["length"]["scored_pairs"] == len(built)
