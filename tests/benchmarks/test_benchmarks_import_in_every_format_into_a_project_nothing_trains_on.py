"""Benchmarks import in RewardBench's, JudgeBench's, RM-Bench's and a mapped format into a
project of their own, with each pair's category; the better response sits first in half the
pairs; bad records are named by line and field; nothing trains on a benchmark."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.benchmarks.helpers import judgebench, rewardbench, rmbench, write
from webapp.benchmarks.models import Benchmark
from webapp.benchmarks.services import BenchmarkError, benchmark_import
from webapp.pairs.models import Pair
from webapp.training.options import TrainingError, TrainingOptions
from webapp.training.services import training_run_create

pytestmark = pytest.mark.django_db


def _pairs(benchmark: Benchmark) -> list[Pair]:
    return list(
        Pair.objects.filter(project=benchmark.project).select_related("response_a", "response_b")
    )


def test_rewardbench_keeps_categories_weights_and_the_better_response(tmp_path: Path) -> None:
    path = rewardbench(tmp_path)
    benchmark, summary = benchmark_import(
        name="RB", path=path, file_name=path.name, fmt="rewardbench", weights={"x": 1, "y": 3}
    )
    assert summary["pairs"] == 8 and summary["created"] == 8
    assert summary["errors"] == [
        {
            "file": "rewardbench.jsonl",
            "line": 4,
            "field": "rejected",
            "reason": "the field is missing",
        }
    ]
    assert benchmark.weights == {"x": 1, "y": 3} and benchmark.project.name == "benchmark: RB"
    pairs = _pairs(benchmark)
    for p in pairs:
        better = p.response_a.text if p.imported_label == "a" else p.response_b.text
        assert better.startswith("good")
        assert p.metadata["category"] == ("x" if int(p.external_id) < 4 else "y")
        assert p.split == "test"
    assert {p.imported_label for p in pairs} == {"a", "b"}  # not always A
    # the same file again adds nothing
    assert (
        benchmark_import(name="RB", path=path, file_name=path.name, fmt="rewardbench")[1]["created"]
        == 0
    )


def test_rmbench_makes_nine_pairs_an_item_with_their_styles(tmp_path: Path) -> None:
    path = rmbench(tmp_path)
    benchmark, summary = benchmark_import(name="RM", path=path, file_name=path.name, fmt="rmbench")
    assert summary["pairs"] == 18
    grid = set()
    for p in _pairs(benchmark):
        meta = p.metadata
        assert meta["category"] == "chat"  # from the file's name
        better = p.response_a.text if p.imported_label == "a" else p.response_b.text
        worse = p.response_b.text if p.imported_label == "a" else p.response_a.text
        styles = ("short", "long", "**md**")
        assert better == f"right {meta['item']} {styles[meta['chosen_style']]}"
        assert worse == f"wrong {meta['item']} {styles[meta['rejected_style']]}"
        grid.add((meta["item"], meta["chosen_style"], meta["rejected_style"]))
    assert len(grid) == 18


def test_judgebench_keeps_its_own_order_and_refuses_an_unknown_label(tmp_path: Path) -> None:
    path = judgebench(tmp_path)
    benchmark, summary = benchmark_import(
        name="JB", path=path, file_name=path.name, fmt="judgebench"
    )
    assert [(e["line"], e["field"]) for e in summary["errors"]] == [(3, "label")]
    by_id = {p.external_id: p for p in _pairs(benchmark)}
    assert (by_id["p1"].response_a.text, by_id["p1"].imported_label) == ("4", "a")
    assert (by_id["p2"].response_a.text, by_id["p2"].imported_label) == ("Rome", "b")
    assert by_id["p2"].metadata["category"] == "knowledge"


def test_the_mapping_format_and_its_mistakes(tmp_path: Path) -> None:
    path = write(tmp_path / "m.jsonl", [{"q": "Q?", "good": "yes", "bad": "no", "kind": "k"}])
    mapping = {"prompt": "q", "chosen": "good", "rejected": "bad", "category": "kind"}
    benchmark, _ = benchmark_import(
        name="M", path=path, file_name="m.jsonl", fmt="mapping", mapping=mapping
    )
    assert _pairs(benchmark)[0].metadata["category"] == "k"
    with pytest.raises(BenchmarkError, match="no column for rejected"):
        benchmark_import(name="M2", path=path, file_name="m.jsonl", fmt="mapping",
                         mapping={"prompt": "q", "chosen": "good"})  # fmt: skip
    with pytest.raises(BenchmarkError, match="no valid benchmark record"):
        benchmark_import(name="M3", path=path, file_name="m.jsonl", fmt="rewardbench")


def test_the_command_imports_several_files_and_training_refuses_the_benchmark(
    tmp_path: Path, db: Any
) -> None:
    out = StringIO()
    chat = rmbench(tmp_path)
    code = tmp_path / "rm-bench-code.json"
    code.write_text(chat.read_text().replace("Item", "Code item"))
    call_command(
        "import_benchmark", str(chat), str(code), "--name", "Mixed", "--format", "rmbench",
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    assert "rm-bench-chat.json: 18 pairs into Mixed" in out.getvalue()
    assert "rm-bench-code.json: 18 pairs into Mixed (18 new)" in out.getvalue()
    with pytest.raises(CommandError, match="no valid benchmark record"):
        call_command(
            "import_benchmark", str(rewardbench(tmp_path)), "--name", "Mixed",
            "--format", "rmbench", stderr=StringIO(),
        )  # fmt: skip
    with pytest.raises(CommandError, match="no such file"):
        call_command(
            "import_benchmark", str(tmp_path / "nope.json"), "--name", "X", "--format", "rmbench"
        )
    benchmark = Benchmark.objects.get(name="Mixed")
    with pytest.raises(TrainingError, match="benchmark"):
        training_run_create(project=benchmark.project, options=TrainingOptions())
