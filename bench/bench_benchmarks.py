"""Reward models on benchmarks they never saw: JudgeBench (its GPT-4o half) and RM-Bench (chat,
code and safety), imported through PrefLab's benchmark importers, scored per category by the
evaluation service that `evaluate_rm` and the leaderboard's button run.

Contenders, for each seed in SEEDS:
  ensemble   the default ensemble (8 reward heads on the frozen MiniLM, context+response
             features; scoring runs at max_length 128) of a project holding both HH-RLHF test
             splits, refit in-sample on all its pairs with the scoring run's settings
  cleaned    a reward head trained on the same project with the drop-flagged recipe (the
             scoring run's likely-mislabelled and duplicate-conflict pairs left out), the model
             a training run registers
  always-a   the response shown first; JudgeBench keeps its own order (55% A), RM-Bench pairs
             are put in a random order per pair, so it sits near 0.5
  random     a coin per pair (seeded)

Figures ``<benchmark>.<contender>.<category>`` and ``<benchmark>.<contender>.overall``: accuracy,
the mean over the seeds so far (recorded after each seed, with ``seeds``; their spread is
printed beside it), and for RM-Bench
``rmbench.<contender>.{easy,normal,hard}``. A frozen 22M-parameter sentence encoder with
linear heads trained on 4.6k HH-RLHF pairs is not expected to solve hard math, code or
knowledge questions: figures near 0.5 are the honest answer, and the baselines beside them say
where 0.5 is.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.db import bench_database
from bench.real_pairs import DATA

Figures = Callable[[str, float, str], None]
NEEDS_SHARED_DATA = True
# BENCH_BENCHMARKS_SEEDS="0" for one seed: each seed scores, trains and evaluates anew
SEEDS = tuple(int(x) for x in os.environ.get("BENCH_BENCHMARKS_SEEDS", "0,1,2").split(","))
MAX_LENGTH = 128
RMBENCH_FILES = ("chat", "code", "safety-refuse", "safety-response")
# A quick run on the first N pairs of each HH-RLHF split and the first M items of each RM-Bench
# file (0: all), e.g. on a busy machine; the figures then name the sample.
HH_PAIRS = int(os.environ.get("BENCH_BENCHMARKS_HH_PAIRS", "0"))
RMBENCH_ITEMS = int(os.environ.get("BENCH_BENCHMARKS_RMBENCH_ITEMS", "0"))


def _head(path: Path, out: Path, n: int) -> Path:
    """The first n records of a JSON Lines (.gz) file or a JSON array, as a file under out."""
    if not n:
        return path
    target = out / path.name.removesuffix(".gz")
    if path.suffix == ".json":
        target.write_text(json.dumps(json.loads(path.read_text())[:n]))
        return target
    with gzip.open(path, "rt") if path.suffix == ".gz" else open(path) as fh:
        target.write_text("".join(line for _, line in zip(range(n), fh, strict=False)))
    return target


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


def _import_benchmarks(out: Path) -> dict[str, Any]:
    from webapp.benchmarks.services import benchmark_import

    judge_path = DATA / "benchmarks" / "judgebench-gpt-4o.jsonl"
    judgebench, _ = benchmark_import(
        name="JudgeBench-GPT-4o", path=judge_path, file_name=judge_path.name, fmt="judgebench"
    )
    for name in RMBENCH_FILES:
        path = _head(DATA / "benchmarks" / f"rm-bench-{name}.json", out, RMBENCH_ITEMS)
        rmbench, _ = benchmark_import(
            name="RM-Bench", path=path, file_name=path.name, fmt="rmbench"
        )
    return {"judgebench": judgebench, "rmbench": rmbench}


def _hh_project(out: Path) -> Any:
    from django.core.management import call_command

    from webapp.projects.models import Project

    for split in ("helpful-base", "harmless-base"):
        path = _head(DATA / "hh-rlhf" / f"{split}_test.jsonl.gz", out, HH_PAIRS)
        call_command("import_pairs", str(path), project="hh-test", format="hh", split="test",
                     verbosity=0)  # fmt: skip
    return Project.objects.get(name="hh-test")


def _score_and_train(project: Any, seed: int) -> tuple[Any, Any]:
    """A complete scoring run and a drop-flagged training run, in this process."""
    from webapp.scoring.models import ScoringRun
    from webapp.scoring.services import ScoringOptions, scoring_run_execute
    from webapp.training.models import TrainingRun
    from webapp.training.options import TrainingOptions
    from webapp.training.services import holdout_ensure, training_run_execute

    options = ScoringOptions(seed=seed, max_length=MAX_LENGTH)
    run = ScoringRun.objects.create(project=project, config={"options": asdict(options)})
    scoring_run_execute(run=run, progress=_noop, cancelled=lambda: False)
    holdout_ensure(project=project)
    train = TrainingOptions(drop_flagged=True, scoring_run=run.pk, max_length=MAX_LENGTH, seed=seed)
    training = TrainingRun.objects.create(
        project=project, config={"options": asdict(train)}, scoring_run=run, name="drop flagged"
    )
    training_run_execute(run=training, progress=_noop, cancelled=lambda: False)
    training.refresh_from_db()
    return run, training


def _evaluate(benchmark: Any, contenders: list[dict[str, Any]], seed: int) -> dict[str, Any]:
    from webapp.benchmarks.models import Evaluation
    from webapp.benchmarks.services import evaluation_execute

    run = Evaluation.objects.create(
        project=benchmark.project, benchmark=benchmark,
        config={"contenders": contenders, "seed": seed},
    )  # fmt: skip
    evaluation_execute(run=run, progress=_noop, cancelled=lambda: False)
    return {r.name: r.figures for r in run.results.all()}


def run(figures: Figures) -> None:
    from webapp.benchmarks.services import contender
    from webapp.registry.models import RegisteredModel

    with bench_database(), tempfile.TemporaryDirectory() as work:
        started = time.monotonic()
        benchmarks = _import_benchmarks(Path(work))
        project = _hh_project(Path(work))
        figures("hh_pairs", project.pairs.count(), "pairs")
        figures("rmbench_pairs", benchmarks["rmbench"].project.pairs.count(), "pairs")
        figures("import_s", time.monotonic() - started, "s")
        by_seed: dict[str, list[float]] = {}
        heldout: list[float] = []
        for seed in SEEDS:
            t = time.monotonic()
            _, training = _score_and_train(project, seed)
            model = RegisteredModel.objects.get(run=training)
            heldout.append(float(training.metrics["accuracy"]))
            contenders = [
                contender("ensemble", project.pk, "ensemble"),
                contender("registered", model.pk, "cleaned"),
                contender("baseline", "always_a", "always-a"),
                contender("baseline", "random", "random"),
            ]
            for key, benchmark in benchmarks.items():
                for name, f in _evaluate(benchmark, contenders, seed).items():
                    if "error" in f:
                        raise RuntimeError(f"{key} {name}: {f['error']}")
                    parts = {"overall": f["accuracy"]} | {
                        c["category"]: c["accuracy"] for c in f["categories"]
                    }
                    if "styles" in f:
                        parts |= {s: f["styles"][s] for s in ("easy", "normal", "hard")}
                    for part, value in parts.items():
                        by_seed.setdefault(f"{key}.{name}.{part}", []).append(value)
            print(f"  seed {seed}: {time.monotonic() - t:.0f} s", flush=True)
            # the means so far, recorded after every seed: a run cut short keeps what it measured
            figures("hh_test.cleaned.heldout_accuracy", float(np.mean(heldout)), "accuracy")
            for name, seeds in sorted(by_seed.items()):
                values = np.array(seeds)
                print(f"  {name}: {' '.join(f'{v:.3f}' for v in values)} (sd {values.std():.3f})")
                figures(name, float(values.mean()), "accuracy")
            figures("seeds", len(heldout), "seeds")
        figures("total_s", time.monotonic() - started, "s")
