"""python manage.py import_pairs FILE... --project NAME [--format ...] [--strict]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.imports.formats import FORMATS, FormatError, open_records
from webapp.imports.models import ImportBatch
from webapp.imports.services import import_batch_create, import_run
from webapp.jobs.services import JobReporter, job_claim, job_create, job_fail, job_succeed
from webapp.projects.models import Project
from webapp.projects.services import project_get_or_create


class Command(BaseCommand):
    help = "Import preference pairs from JSONL / JSON / CSV / Parquet files (optionally .gz)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--project", required=True, help="Project name (created if new).")
        parser.add_argument("--format", default="auto", choices=FORMATS)
        parser.add_argument(
            "--mapping",
            default=None,
            help='Column mapping as JSON, e.g. \'{"prompt": "q", "chosen": "good", '
            '"rejected": "bad"}\' (with --format mapping).',
        )
        parser.add_argument(
            "--label-scheme",
            default=None,
            choices=[c for c, _ in Project.LabelScheme.choices],
            help="How a new project labels (default: steps for files of step-by-step "
            "solutions, else pairwise); an existing project keeps its own.",
        )
        parser.add_argument("--split", default="train", help="Split for records that name none.")
        parser.add_argument(
            "--strict", action="store_true", help="Import nothing if any record is bad."
        )
        parser.add_argument("--max-errors-shown", type=int, default=20)

    def handle(self, *args: Any, **opts: Any) -> None:
        mapping = None
        if opts["mapping"]:
            try:
                mapping = json.loads(opts["mapping"])
            except json.JSONDecodeError as exc:
                raise CommandError(f"--mapping is not valid JSON: {exc}") from exc
        for path in opts["files"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        scheme = opts["label_scheme"] or self._scheme_of(opts["files"][0], opts["format"], mapping)
        project = project_get_or_create(name=opts["project"], label_scheme=scheme)
        failed = False
        for path in opts["files"]:
            batch = self._import_one(path, project, mapping, opts)
            failed |= batch.status != ImportBatch.Status.DONE
        if failed:
            raise CommandError("some files were not imported; see the reports above")

    def _scheme_of(self, path: Path, fmt: str, mapping: Any) -> str:
        """What a new project for this file labels: steps for step-by-step solutions."""
        try:
            with open_records(path, fmt=fmt, mapping=mapping) as stream:
                steps = stream.is_steps
        except FormatError:
            steps = False  # the import itself reports what is wrong with the file
        return Project.LabelScheme.STEPS if steps else Project.LabelScheme.PAIRWISE

    def _import_one(self, path: Path, project: Any, mapping: Any, opts: Any) -> ImportBatch:
        job = job_create(kind="import", project=project, params={"file": str(path)}, enqueue=False)
        job = job_claim(job_id=job.pk) or job
        batch = import_batch_create(
            project=project,
            path=path.resolve(),
            file_name=path.name,
            fmt=opts["format"],
            mapping=mapping,
            strict=opts["strict"],
            default_split=opts["split"],
            job=job,
        )
        self.stdout.write(f"Importing {path} into project {project.name!r}")
        reporter = JobReporter(job, terminal=True)
        try:
            import_run(batch=batch, progress=reporter)
        except BaseException as exc:
            job_fail(job=job, error=exc)
            raise
        finally:
            reporter.close()
        if batch.status == ImportBatch.Status.FAILED:
            job_fail(job=job, error=batch.error)
        else:
            job_succeed(job=job, result={"import_batch": batch.pk}, message=batch.summary)
        self._report(batch, opts["max_errors_shown"])
        return batch

    def _report(self, batch: ImportBatch, shown: int) -> None:
        style = self.style.SUCCESS if batch.status == ImportBatch.Status.DONE else self.style.ERROR
        votes = (
            ""
            if batch.project.label_scheme == Project.LabelScheme.STEPS
            else (f", {batch.votes_created} votes")
        )
        self.stdout.write(style(f"{batch.file_name}: {batch.summary}{votes}"))
        if batch.error:
            self.stderr.write(batch.error)
        for err in batch.errors[:shown]:
            where = f"{err['file']}:{err['line']}" + (f" [{err['field']}]" if err["field"] else "")
            self.stderr.write(f"  {where}: {err['reason']}")
        if batch.records_rejected > shown:
            self.stderr.write(f"  ... and {batch.records_rejected - shown} more rejected records")
