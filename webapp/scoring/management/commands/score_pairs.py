"""python manage.py score_pairs --project NAME [--models M] [--folds K] [--mode ...] [--wait]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.jobs.terminal import job_wait
from webapp.projects.models import Project
from webapp.registry.selectors import registered_model_for_project
from webapp.scoring.models import ScoringRun
from webapp.scoring.services import ScoringOptions, scoring_run_create


class Command(BaseCommand):
    help = "Measure every pair's preference strength with an ensemble, on a Celery worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True)
        parser.add_argument("--models", type=int, default=8, help="M, ensemble members")
        parser.add_argument("--folds", type=int, default=5, help="K, out-of-fold splits")
        parser.add_argument("--mode", choices=ScoringRun.Mode.values, default="oof")
        parser.add_argument("--encoder", default="", help="Hugging Face model path or name")
        parser.add_argument("--epochs", type=int, default=4)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--reward-model", action="append", default=[], help="an existing RM that votes too"
        )
        parser.add_argument(
            "--score-column", action="append", default=[], help="an imported margin column"
        )
        parser.add_argument(
            "--registered-model", type=int, action="append", default=[], metavar="VERSION",
            help="a model version of the project's registry that votes too",
        )  # fmt: skip
        parser.add_argument("--wait", action="store_true", help="wait and show progress")

    def handle(self, *args: Any, **opts: Any) -> None:
        project = Project.objects.filter(name=opts["project"]).first()
        if project is None:
            raise CommandError(f"no project named {opts['project']!r}")
        registered = []
        for version in opts["registered_model"]:
            found = registered_model_for_project(project=project, version=version)
            if found is None:
                raise CommandError(f"no registered model v{version} in {project.name!r}")
            registered.append(found.path)
        options = ScoringOptions(
            mode=opts["mode"],
            n_models=opts["models"],
            n_folds=opts["folds"],
            encoder=opts["encoder"],
            epochs=opts["epochs"],
            seed=opts["seed"],
            reward_models=opts["reward_model"] + registered,
            score_columns=opts["score_column"],
        )
        run = scoring_run_create(project=project, options=options)
        assert run.job is not None
        self.stdout.write(f"Scoring run {run.pk} queued as job {run.job.pk} ({run.job.queue}).")
        if opts["wait"]:
            job_wait(job_id=run.job.pk)
            run.refresh_from_db()
            summary = run.summary
            self.stdout.write(self.style.SUCCESS(
                f"Scored {run.n_pairs} pairs: {100 * summary['frac_mu_negative']:.1f}% with "
                f"mu < 0; flags {summary['flag_counts']}"
            ))  # fmt: skip
