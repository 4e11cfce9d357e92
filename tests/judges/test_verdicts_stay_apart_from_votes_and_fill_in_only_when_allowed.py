"""Imported verdicts are stored per judge and pair, apart from votes: they never change the
human labels, unless an admin lets one judge fill in the pairs nobody voted on. Bad records
are reported with their line and field, and the rest are stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.judges.helpers import import_voted_pairs, write_jsonl
from webapp.judges.models import Judge, JudgeVerdict
from webapp.judges.services import JudgeError, judge_create, judge_fill_in_set, verdicts_import
from webapp.labelling.models import Vote
from webapp.pairs.labels import effective_label
from webapp.pairs.models import Pair


@pytest.fixture
def voted(project: Any, tmp_path: Path) -> dict[str, Pair]:
    import_voted_pairs(project, tmp_path)
    return {p.external_id: p for p in Pair.objects.filter(project=project)}


def test_verdicts_are_stored_apart_and_bad_records_are_named(
    project: Any, voted: dict[str, Pair], tmp_path: Path
) -> None:
    judge = judge_create(project=project, name="GPT", source=Judge.Source.VERDICTS)
    path = write_jsonl(
        tmp_path / "gpt.jsonl",
        [
            {"idx": "0", "gpt_result": "1", "gpt_reason": "A answers it"},
            {"idx": "0", "gpt_result": "left", "position": "ba"},  # left is B when B is first
            {"idx": "1", "gpt_result": "garbage"},
            {"idx": "99", "gpt_result": "2"},
            {"idx": "2", "gpt_result": "B>A", "position": "sideways"},
            {"idx": "3", "gpt_result": 2},
            {"idx": "6", "gpt_result": "2"},
        ],
    )
    votes_before = Vote.objects.filter(pair__project=project).count()
    summary = verdicts_import(judge=judge, path=path, file_name="gpt.jsonl")
    assert summary["stored"] == 3
    problems = {(e["line"], e["field"]) for e in summary["errors"]}
    assert problems == {(3, "gpt_result"), (4, "id"), (5, "position")}
    assert "no pair '99'" in next(e["reason"] for e in summary["errors"] if e["line"] == 4)
    v0 = JudgeVerdict.objects.get(judge=judge, pair=voted["0"])
    # asked both ways and answered differently: the verdict that counts is a tie
    assert (v0.choice_ab, v0.choice_ba, v0.choice) == ("a", "b", "tie")
    assert v0.reason == "A answers it"
    assert JudgeVerdict.objects.get(judge=judge, pair=voted["3"]).choice == "b"
    assert Vote.objects.filter(pair__project=project).count() == votes_before


def test_a_judge_fills_in_only_unvoted_pairs_and_only_when_allowed(
    project: Any, voted: dict[str, Pair], tmp_path: Path
) -> None:
    judge = judge_create(project=project, name="GPT", source=Judge.Source.VERDICTS)
    path = write_jsonl(
        tmp_path / "gpt.jsonl", [{"idx": "6", "verdict": "2"}, {"idx": "0", "verdict": "2"}]
    )
    verdicts_import(judge=judge, path=path, file_name="gpt.jsonl")
    unvoted, voted_a = voted["6"].pk, voted["0"].pk
    assert effective_label(project=project, pair_id=unvoted).source == "none"
    judge_fill_in_set(judge=judge, on=True)
    filled = effective_label(project=project, pair_id=unvoted)
    assert (filled.label, filled.source) == ("b", "judge")
    # three people voted A on pair 0: the judge's B changes nothing there
    assert effective_label(project=project, pair_id=voted_a).label == "a"
    judge_fill_in_set(judge=judge, on=False)
    assert effective_label(project=project, pair_id=unvoted).source == "none"


def test_one_judge_at_most_fills_in(project: Any) -> None:
    first = judge_create(project=project, name="one", source=Judge.Source.VERDICTS)
    second = judge_create(project=project, name="two", source=Judge.Source.VERDICTS)
    judge_fill_in_set(judge=first, on=True)
    judge_fill_in_set(judge=second, on=True)
    assert list(Judge.objects.filter(fills_missing=True)) == [second]


def test_bad_judges_are_refused(project: Any) -> None:
    with pytest.raises(JudgeError, match="not here"):
        judge_create(
            project=project, name="rm", source=Judge.Source.REWARD_MODEL, config={"path": "/nope"}
        )
    with pytest.raises(JudgeError, match="unknown judge source"):
        judge_create(project=project, name="x", source="oracle")
