"""python manage.py import_verdicts FILE --project NAME --judge NAME [--key-field F] [--wait]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.jobs.terminal import job_wait
from webapp.judges.models import Judge
from webapp.judges.services import JudgeError, judge_create, verdicts_job_create
from webapp.projects.models import Project


class Command(BaseCommand):
    help = "Import a file of judge verdicts (pair id -> verdict) for a judge of a project."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--project", required=True)
        parser.add_argument("--judge", required=True, help="the judge's name (created if new)")
        parser.add_argument("--key-field", default="", help="the field holding the pair's key")
        parser.add_argument("--wait", action="store_true", help="wait and show progress")

    def handle(self, *args: Any, **opts: Any) -> None:
        project = Project.objects.filter(name=opts["project"]).first()
        if project is None:
            raise CommandError(f"no project named {opts['project']!r}")
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            judge = judge_create(project=project, name=opts["judge"], source=Judge.Source.VERDICTS)
        except JudgeError as exc:
            raise CommandError(str(exc)) from exc
        job = verdicts_job_create(
            judge=judge, path=path.resolve(), file_name=path.name, key_field=opts["key_field"]
        )
        self.stdout.write(f"Verdicts of {judge.name} queued as job {job.pk}.")
        if opts["wait"]:
            job = job_wait(job_id=job.pk)
            self.stdout.write(f"{job.status}: {job.message}")
            for error in job.result.get("errors", [])[:20]:
                self.stderr.write(
                    f"  {error['file']}:{error['line']} [{error['field']}]: {error['reason']}"
                )
