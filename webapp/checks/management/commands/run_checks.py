"""python manage.py run_checks --project NAME [--band-low X] [--band-high Y] [--wait]"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.checks.services import check_options_for, check_run_create
from webapp.jobs.terminal import job_wait
from webapp.projects.models import Project


class Command(BaseCommand):
    help = "Run the consistency checks of a project on a Celery worker; flags replace the last."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True)
        parser.add_argument("--band-low", type=float, default=None, help="contrast band, from")
        parser.add_argument("--band-high", type=float, default=None, help="contrast band, to")
        parser.add_argument("--max-contrast-pairs", type=int, default=None)
        parser.add_argument("--wait", action="store_true", help="wait and show progress")

    def handle(self, *args: Any, **opts: Any) -> None:
        project = Project.objects.filter(name=opts["project"]).first()
        if project is None:
            raise CommandError(f"no project named {opts['project']!r}")
        options = check_options_for(project=project)
        changes = {
            "band_low": opts["band_low"],
            "band_high": opts["band_high"],
            "max_contrast_pairs": opts["max_contrast_pairs"],
        }
        options = dataclasses.replace(
            options, **{k: v for k, v in changes.items() if v is not None}
        )
        if not -1.0 <= options.band_low <= options.band_high <= 1.0:
            raise CommandError("--band-low and --band-high: need -1 <= low <= high <= 1")
        run = check_run_create(project=project, options=options)
        assert run.job is not None
        self.stdout.write(f"Check run {run.pk} queued as job {run.job.pk}.")
        if opts["wait"]:
            job_wait(job_id=run.job.pk)
            run.refresh_from_db()
            contrast = run.summary.get("contrast", {})
            self.stdout.write(self.style.SUCCESS(
                f"Checks done: C_res {contrast.get('c_res', 'n/a')}, C_ins "
                f"{contrast.get('c_ins', 'n/a')}; flags {run.summary.get('flag_counts', {})}"
            ))  # fmt: skip
