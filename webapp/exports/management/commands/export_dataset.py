"""python manage.py export_dataset --project NAME --format jsonl|jsonl.gz|parquet --out DIR
[--style conversational] [--margin] [--split S] [--drop-flagged] [--min-strength X]

Writes a snapshot in this process (no worker needed), with a progress bar; the snapshot is
recorded and numbered like one made from the web page, its files in DIR.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from webapp.exports.models import ExportSnapshot
from webapp.exports.selectors import ExportError, ExportSpec
from webapp.exports.services import export_create, export_write
from webapp.jobs.services import JobReporter, job_claim, job_fail, job_heartbeat, job_succeed
from webapp.projects.models import Project


class Command(BaseCommand):
    help = "Export a project's preference pairs as a dataset snapshot (JSON Lines or Parquet)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Project name.")
        parser.add_argument(
            "--format", required=True, choices=ExportSnapshot.FileFormat.values, dest="fmt"
        )
        parser.add_argument("--out", required=True, type=Path, help="A new or empty folder.")
        parser.add_argument("--style", default="standard", choices=ExportSnapshot.Style.values)
        parser.add_argument(
            "--layout",
            default="",
            choices=["", "stepwise", "first_error"],
            help="A steps project's layout: stepwise (the default) or first_error.",
        )
        parser.add_argument("--margin", action="store_true", help="Add a margin column.")
        parser.add_argument("--split", default="", help="Only this split.")
        parser.add_argument("--drop-flagged", action="store_true")
        parser.add_argument("--min-strength", type=float, default=None)
        parser.add_argument("--reviewed-only", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        project = Project.objects.filter(name=opts["project"]).first()
        if project is None:
            raise CommandError(f"no project named {opts['project']!r}")
        out: Path = opts["out"]
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise CommandError(f"{out} exists and is not an empty folder")
        spec = ExportSpec(
            style=opts["style"],
            layout=opts["layout"],
            with_margin=opts["margin"],
            drop_flagged=opts["drop_flagged"],
            min_strength=opts["min_strength"],
            reviewed_only=opts["reviewed_only"],
            split=opts["split"],
        )
        try:
            snapshot = export_create(
                project=project, file_format=opts["fmt"], spec=spec, directory=out, enqueue=False
            )
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        assert snapshot.job is not None
        job = job_claim(job_id=snapshot.job.pk) or snapshot.job
        reporter = JobReporter(job)
        bar = tqdm(
            total=0,
            unit=" pairs",
            unit_scale=True,
            file=sys.stderr,
            mininterval=0.5 if sys.stderr.isatty() else 10,
        )

        def progress(done: int, total: int, message: str) -> None:
            bar.total = total
            bar.update(done - bar.n)
            reporter(done, total, message)

        self.stdout.write(f"Exporting project {project.name!r} as v{snapshot.version} to {out}")
        started = time.perf_counter()
        try:
            with job_heartbeat(job=job):  # alive to the reaper through long steps
                export_write(snapshot=snapshot, progress=progress)
        except BaseException as exc:
            job_fail(job=job, error=exc)
            raise CommandError(f"export failed: {exc}") from exc
        finally:
            bar.close()
        seconds = time.perf_counter() - started
        job_succeed(
            job=job,
            result={"export": snapshot.pk, "url": f"/exports/{snapshot.pk}/"},
            message=f"{snapshot.row_count} pairs in export v{snapshot.version}",
        )
        for f in snapshot.files:
            self.stdout.write(f"  {f['name']}: {f['rows']} rows, sha256 {f['sha256']}")
        rate = snapshot.row_count / seconds if seconds else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"wrote {snapshot.row_count} rows in {seconds:.2f} s ({rate:.0f} rows/s)"
            )
        )
