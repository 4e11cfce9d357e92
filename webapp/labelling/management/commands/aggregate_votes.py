"""python manage.py aggregate_votes --project NAME: human labels and agreement, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.jobs.services import JobReporter, job_claim, job_create, job_fail, job_succeed
from webapp.labelling.aggregation import votes_aggregate
from webapp.projects.models import Project


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


class Command(BaseCommand):
    help = "Aggregate a project's votes (Dawid-Skene, majority) and measure agreement."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Project name.")

    def handle(self, *args: Any, **opts: Any) -> None:
        project = Project.objects.filter(name=opts["project"]).first()
        if project is None:
            raise CommandError(f"no project named {opts['project']!r}")
        job = job_create(kind="aggregate_votes", project=project, params={}, enqueue=False)
        job = job_claim(job_id=job.pk) or job
        reporter = JobReporter(job, terminal=False)
        try:
            report = votes_aggregate(project=project, progress=reporter)
        except BaseException as exc:
            job_fail(job=job, error=exc)
            raise
        url = f"/projects/{project.pk}/agreement/"
        job_succeed(job=job, result={"report": report.pk, "url": url})
        data = report.data
        if not data.get("n_votes"):
            self.stdout.write("No votes yet.")
            return
        alpha, labels = data["alpha"], data["labels"]
        self.stdout.write(
            f"{data['n_votes']} votes on {data['n_pairs']} pairs by "
            f"{data['n_annotators']} annotators\n"
            f"Krippendorff's alpha: {alpha['headline']} {_fmt(alpha['value'])} "
            f"(graded {_fmt(alpha['graded'])}, direction {_fmt(alpha['direction'])}, "
            f"nominal {_fmt(alpha['nominal'])})\n"
            f"Fleiss' kappa: {_fmt(data['fleiss']['kappa'])} on {data['fleiss']['items']} pairs"
            f" x {data['fleiss']['raters']} raters; mean Cohen's kappa "
            f"{_fmt(data['cohen']['mean'])}\n"
            f"Raw agreement: pairwise {_fmt(data['raw']['pairwise'])}, unanimous "
            f"{_fmt(data['raw']['unanimous'])}\n"
            f"Majority labels: {labels['majority']}\n"
            f"Dawid-Skene labels: {labels['dawid_skene']} "
            f"({labels['changed_by_ds']} differ from the majority)"
        )
