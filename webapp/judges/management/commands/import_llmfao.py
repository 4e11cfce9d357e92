"""python manage.py import_llmfao --project NAME [--folder DIR] [--wait]

LLMFAO's pairs with every crowd worker's vote (worker ids as annotators), the crowd's labels
aggregated, and its GPT-4 and GPT-3 verdicts as two judges."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.jobs.terminal import job_wait
from webapp.judges.llmfao import llmfao_convert
from webapp.judges.models import Judge
from webapp.judges.services import judge_create, verdicts_job_create
from webapp.labelling.aggregation import votes_aggregate
from webapp.projects.models import Project


class Command(BaseCommand):
    help = "Import LLMFAO's crowd comparisons and its two LLM judges into a project."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Project name (created if new).")
        parser.add_argument("--folder", type=Path, default=Path("../shared/data/crowd"))
        parser.add_argument("--wait", action="store_true", help="wait for the judges' imports")

    def handle(self, *args: Any, **opts: Any) -> None:
        folder: Path = opts["folder"]
        if not (folder / "llmfao-crowd-comparisons.csv").is_file():
            raise CommandError(f"{folder}: no llmfao-crowd-comparisons.csv here")
        out = Path(settings.UPLOAD_DIR) / f"llmfao-{uuid.uuid4().hex}"
        pairs, verdicts = llmfao_convert(folder=folder, out=out)
        call_command("import_pairs", str(pairs), project=opts["project"], format="pandalm")
        project = Project.objects.get(name=opts["project"])
        report = votes_aggregate(project=project)
        self.stdout.write(f"{report.n_votes} crowd votes aggregated")
        for name, path in verdicts.items():
            judge = judge_create(project=project, name=name, source=Judge.Source.VERDICTS)
            job = verdicts_job_create(judge=judge, path=path, file_name=path.name)
            self.stdout.write(f"Verdicts of {name} queued as job {job.pk}.")
            if opts["wait"]:
                self.stdout.write(f"{name}: {job_wait(job_id=job.pk).message}")
