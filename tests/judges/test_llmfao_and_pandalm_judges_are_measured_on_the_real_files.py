"""The real files: LLMFAO's crowd (worker ids as annotators) with its GPT-4 and GPT-3 judges,
and PandaLM's test set with its GPT-3.5 and PandaLM-7B judges, import and are measured; the
judges' unreadable verdicts ("garbage") are reported by line and field."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.core.management import call_command

from tests.conftest import shared_data
from webapp.judges.llmfao import llmfao_convert
from webapp.judges.models import Judge, JudgeVerdict
from webapp.judges.report import judges_measure
from webapp.judges.services import judge_create, verdicts_import
from webapp.labelling.models import Vote
from webapp.pairs.models import Pair


def _check_figures(judge: dict[str, Any]) -> None:
    overall = judge["overall"]
    lo, hi = overall["kappa_interval"]
    assert lo <= overall["kappa"] <= hi
    assert (
        overall["agreement_interval"][0] <= overall["agreement"] <= overall["agreement_interval"][1]
    )


def test_llmfao_crowd_and_judges(project: Any, tmp_path: Path) -> None:
    folder = shared_data("crowd/llmfao-crowd-comparisons.csv").parent
    with open(folder / "llmfao-crowd-comparisons.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    pairs, verdicts = llmfao_convert(folder=folder, out=tmp_path)
    call_command("import_pairs", str(pairs), project=project.name, format="pandalm")
    assert Pair.objects.filter(project=project).count() == len({r["id"] for r in rows})
    votes = Vote.objects.filter(pair__project=project)
    assert votes.count() == len(rows)
    assert votes.values("annotator").distinct().count() == len({r["worker"] for r in rows})
    for name, path in verdicts.items():
        judge = judge_create(project=project, name=name, source=Judge.Source.VERDICTS)
        summary = verdicts_import(judge=judge, path=path, file_name=path.name)
        assert summary["rejected"] == 0 and summary["stored"] == len({r["id"] for r in rows})
    report = judges_measure(project=project).data
    assert report["n_annotators"] == len({r["worker"] for r in rows})
    assert report["humans"]["mean_kappa"] is not None
    assert {j["name"] for j in report["judges"]} == {"GPT-4", "GPT-3"}
    for judge in report["judges"]:
        _check_figures(judge)
        assert judge["per_annotator"] and judge["by_category"]


def test_pandalm_test_set_and_its_two_judges(project: Any) -> None:
    test_set = shared_data("pandalm/testset-v1.json")
    call_command("import_pairs", str(test_set), project=project.name, format="pandalm")
    # a few records of the file are flawed and rejected (its import test names them)
    imported = Pair.objects.filter(project=project).count()
    assert Vote.objects.filter(pair__project=project).count() == 3 * imported
    for name, file in (
        ("GPT-3.5", "gpt-3.5-turbo-testset-v1.json"),
        ("PandaLM-7B", "pandalm-7b-testset-v1.json"),
    ):
        path = shared_data(f"pandalm/{file}")
        said = json.loads(path.read_text())
        field = next(k for k in said[0] if k.endswith("_result"))
        unreadable = [i for i, r in enumerate(said) if str(r[field]) not in ("0", "1", "2", "Tie")]
        judge = judge_create(project=project, name=name, source=Judge.Source.VERDICTS)
        summary = verdicts_import(judge=judge, path=path, file_name=path.name)
        ids = set(Pair.objects.filter(project=project).values_list("external_id", flat=True))
        missing = [
            i for i, r in enumerate(said) if str(r["idx"]) not in ids and i not in unreadable
        ]
        assert summary["stored"] == len(said) - len(unreadable) - len(missing)
        assert summary["rejected"] == len(unreadable) + len(missing)
        assert {e["field"] for e in summary["errors"]} <= {field, "id"}
        assert JudgeVerdict.objects.filter(judge=judge).exclude(reason="").exists()
    report = judges_measure(project=project).data
    assert len(report["judges"]) == 2
    for judge in report["judges"]:
        _check_figures(judge)
