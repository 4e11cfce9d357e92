"""python manage.py evaluate_rm --benchmark NAME --model SPEC [--model SPEC...] [--wait|--here]

SPEC: registered:ID, rm:PATH, judge:ID, ensemble:PROJECT, always_a, random, or all (every
registered model, reward-model judge and ensemble of every project, the benchmark's own
judges, and both baselines)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.benchmarks.models import Benchmark
from webapp.benchmarks.services import (
    BenchmarkError,
    contender_parse,
    contenders_all,
    evaluation_create,
    evaluation_execute,
)
from webapp.jobs.runs import run_execute
from webapp.jobs.services import job_succeed
from webapp.jobs.terminal import job_wait
from webapp.projects.models import Project


class Command(BaseCommand):
    help = "Score reward models, judges and ensembles on a benchmark, per category and overall."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--benchmark", required=True)
        parser.add_argument("--model", action="append", required=True, help="a contender (repeat)")
        parser.add_argument("--seed", type=int, default=0, help="the random baseline's seed")
        parser.add_argument(
            "--wait", action="store_true", help="wait for the worker, showing progress"
        )
        parser.add_argument(
            "--here", action="store_true", help="run in this process, not on a worker"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        benchmark = Benchmark.objects.filter(name=opts["benchmark"]).first()
        if benchmark is None:
            raise CommandError(f"no benchmark named {opts['benchmark']!r}")
        try:
            contenders = []
            for spec in opts["model"]:
                if spec == "all":
                    contenders += contenders_all(
                        benchmark=benchmark, projects=list(Project.objects.all())
                    )
                else:
                    contenders.append(contender_parse(spec))
            run = evaluation_create(
                benchmark=benchmark,
                contenders=contenders,
                seed=opts["seed"],
                enqueue=not opts["here"],
            )
        except BenchmarkError as exc:
            raise CommandError(str(exc)) from exc
        assert run.job is not None
        if opts["here"]:
            done = run_execute(type(run), job_id=run.job.pk, execute=evaluation_execute)
            if done is None:
                run.job.refresh_from_db()
                raise CommandError(f"evaluation failed: {run.job.error}")
            job_succeed(job=done[0], result={"evaluation": run.pk}, message="evaluated")
        else:
            self.stdout.write(f"Evaluation {run.pk} queued as job {run.job.pk}.")
            if not opts["wait"]:
                return
            job_wait(job_id=run.job.pk)
        for result in run.results.order_by("-accuracy"):
            self._report(result)

    def _report(self, result: Any) -> None:
        f = result.figures
        if "error" in f:
            self.stdout.write(f"{result.name}: {f['error']}")
            return
        lo, hi = f["interval"]
        line = f"{result.name}: accuracy {f['accuracy']:.3f} [{lo:.3f}, {hi:.3f}] on {f['n']} pairs"
        if "weighted" in f and f["weighted"] is not None:
            line += f", weighted {f['weighted']:.3f}"
        if "styles" in f:
            s = f["styles"]
            line += f", easy {s['easy']:.3f} normal {s['normal']:.3f} hard {s['hard']:.3f}"
        self.stdout.write(line)
        for c in f["categories"]:
            self.stdout.write(f"    {c['category']}: {c['accuracy']:.3f} (n {c['n']})")
