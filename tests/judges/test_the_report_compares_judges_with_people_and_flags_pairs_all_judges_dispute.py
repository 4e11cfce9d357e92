"""The judges' report: each judge against the people's majority and against each annotator,
beside the people against each other; pairs where every judge disputes a decisive human label
are flagged for review, and only those."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.judges.helpers import import_voted_pairs, write_jsonl
from webapp.flags.models import Flag
from webapp.judges.models import Judge
from webapp.judges.report import judges_measure
from webapp.judges.services import judge_create, verdicts_import
from webapp.pairs.models import Pair


def test_report_and_flags(project: Any, tmp_path: Path) -> None:
    import_voted_pairs(project, tmp_path)
    # majorities: 0 a, 1 a, 2 b, 3 b, 4 a, 5 b (pair 6 has no votes)
    copycat = judge_create(project=project, name="copycat", source=Judge.Source.VERDICTS)
    contrary = judge_create(project=project, name="contrary", source=Judge.Source.VERDICTS)
    say_a = judge_create(project=project, name="always-a", source=Judge.Source.VERDICTS)
    majority = {"0": "a", "1": "a", "2": "b", "3": "b", "4": "a", "5": "b"}
    flip = {"a": "b", "b": "a"}
    for judge, said in (
        (copycat, majority),
        (contrary, {k: flip[v] for k, v in majority.items()}),
        (say_a, dict.fromkeys(majority, "a")),
    ):
        rows = [{"id": k, "verdict": v} for k, v in said.items()]
        rows += [{"id": k, "verdict": v, "position": "ba"} for k, v in said.items()]
        verdicts_import(judge=judge, path=write_jsonl(tmp_path / "v.jsonl", rows), file_name="v")
    report = judges_measure(project=project).data
    by_name = {j["name"]: j for j in report["judges"]}
    assert report["n_human_labelled"] == 6 and report["n_annotators"] == 3
    assert by_name["copycat"]["overall"]["kappa"] == pytest.approx(1.0)
    assert by_name["contrary"]["overall"]["kappa"] == pytest.approx(-1.0)
    assert by_name["always-a"]["overall"]["agreement"] == pytest.approx(0.5)
    assert by_name["copycat"]["position"] == {"n": 6, "consistency": 1.0, "first_shown_share": 0.5}
    # every response A is the longer: people chose A on 3 of 6, always-a on all of them
    assert by_name["always-a"]["length"]["judge"]["share"] == 1.0
    assert by_name["always-a"]["length"]["people"]["share"] == pytest.approx(0.5)
    assert {r["group"] for r in by_name["copycat"]["by_category"]} == {"even", "odd"}
    # annotator1 voted 1 1 2 2 1 2 = the majority on all six pairs
    first = next(
        r for r in by_name["copycat"]["per_annotator"] if r["annotator"].endswith("annotator1")
    )
    assert first["n"] == 6 and first["kappa"] == pytest.approx(1.0)
    assert first["people_kappa"] is not None
    assert report["humans"]["n_pairs_of_annotators"] == 3
    # copycat never disputes the people, so no pair has every judge against it
    assert report["all_disagree"] == 0
    assert not Flag.objects.filter(project=project, kind=Flag.Kind.JUDGES_DISAGREE).exists()


def test_pairs_every_judge_disputes_are_flagged_and_measuring_again_replaces_them(
    project: Any, tmp_path: Path
) -> None:
    import_voted_pairs(project, tmp_path)
    ids = {p.external_id: p.pk for p in Pair.objects.filter(project=project)}
    one = judge_create(project=project, name="one", source=Judge.Source.VERDICTS)
    two = judge_create(project=project, name="two", source=Judge.Source.VERDICTS)
    # people: 0 a, 2 b, 4 a. Both judges dispute 0; only one disputes 2; 4 is a tie for one
    for judge, said in ((one, ["b", "a", "tie"]), (two, ["tie", "b", "a"])):
        rows = [{"id": k, "verdict": v} for k, v in zip(("0", "2", "4"), said, strict=True)]
        path = write_jsonl(tmp_path / f"{judge.name}.jsonl", rows)
        verdicts_import(judge=judge, path=path, file_name=path.name)
    judges_measure(project=project)
    flags = Flag.objects.filter(project=project, kind=Flag.Kind.JUDGES_DISAGREE)
    assert [f.pair_id for f in flags] == [ids["0"]]
    assert flags[0].source == "judges"
    assert flags[0].details == {"human": "a", "judges": {"one": "b", "two": "tie"}}
    judges_measure(project=project)
    assert Flag.objects.filter(project=project, kind=Flag.Kind.JUDGES_DISAGREE).count() == 1
