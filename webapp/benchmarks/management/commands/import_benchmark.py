"""python manage.py import_benchmark FILE... --name NAME --format F [--weights J] [--mapping J]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from webapp.benchmarks.formats import FORMATS
from webapp.benchmarks.services import BenchmarkError, benchmark_import


class Command(BaseCommand):
    help = "Import benchmark pairs (RewardBench, JudgeBench, RM-Bench or mapped columns)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--name", required=True, help="the benchmark (created if new)")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--weights", default=None, help='{"category": weight, ...} as JSON')
        parser.add_argument(
            "--mapping", default=None, help='{"prompt": col, "chosen": col, "rejected": col, '
            '"category": col, "id": col} as JSON (with --format mapping)'
        )  # fmt: skip

    def handle(self, *args: Any, **opts: Any) -> None:
        parsed = {}
        for option in ("weights", "mapping"):
            try:
                parsed[option] = json.loads(opts[option]) if opts[option] else None
            except json.JSONDecodeError as exc:
                raise CommandError(f"--{option} is not valid JSON: {exc}") from exc
        for path in opts["files"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            bar = tqdm(total=1, desc=f"importing {path.name}", dynamic_ncols=True)

            def progress(done: int, total: int, message: str, bar: Any = bar) -> None:
                bar.total, bar.n = max(total, 1), min(done, max(total, 1))
                bar.refresh()

            try:
                benchmark, summary = benchmark_import(
                    name=opts["name"], path=path.resolve(), file_name=path.name,
                    fmt=opts["format"], weights=parsed["weights"], mapping=parsed["mapping"],
                    progress=progress,
                )  # fmt: skip
            except BenchmarkError as exc:
                raise CommandError(str(exc)) from exc
            finally:
                bar.close()
            self.stdout.write(
                f"{path.name}: {summary['pairs']} pairs into {benchmark.name} "
                f"({summary['created']} new), {summary['rejected']} records rejected"
            )
            for error in summary["errors"][:20]:
                self.stderr.write(
                    f"  {error['file']}:{error['line']} [{error['field']}]: {error['reason']}"
                )
