"""python manage.py train_rm --project NAME [recipe options] [--wait]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.jobs.terminal import job_wait
from webapp.projects.models import Project
from webapp.training.models import TrainingRun
from webapp.training.options import DEFAULT_DROP_FLAGS, TrainingError, TrainingOptions
from webapp.training.services import training_run_create


class Command(BaseCommand):
    help = "Train a reward model on the project's cleaned labels, on a Celery worker."

    def add_arguments(self, parser: CommandParser) -> None:
        add = parser.add_argument
        add("--project", required=True)
        add("--kind", choices=TrainingRun.Kind.values, default="head")
        add("--scoring-run", type=int, default=None, help="whose mu the recipe reads")
        add("--drop-flagged", action="store_true")
        add("--drop-flag-kind", action="append", default=[], help="a flag kind that drops")
        add("--drop-bottom-pct", type=float, default=0.0)
        add("--drop-top-pct", type=float, default=0.0)
        add("--flip-below", type=float, default=None, help="flip labels where mu < this")
        add("--smoothing", type=float, default=0.0, help="label smoothing a")
        add("--smooth-below", type=float, default=None, help="smooth only where mu < this")
        add("--margin-lambda", type=float, default=0.0, help="adaptive margin m = lambda * mu")
        add("--center-rewards", type=float, default=None, help="center_rewards_coefficient")
        add("--epochs", type=int, default=20)
        add("--lr", type=float, default=None)
        add("--batch-size", type=int, default=None)
        add("--hidden", type=int, default=0)
        add("--max-length", type=int, default=256)
        add("--model", default="", help="encoder or base model path; default the bundled MiniLM")
        add("--seed", type=int, default=0)
        add("--wait", action="store_true", help="wait and show progress")

    def handle(self, *args: Any, **opts: Any) -> None:
        project = Project.objects.filter(name=opts["project"]).first()
        if project is None:
            raise CommandError(f"no project named {opts['project']!r}")
        options = TrainingOptions(
            kind=opts["kind"],
            scoring_run=opts["scoring_run"],
            drop_flagged=opts["drop_flagged"],
            drop_flag_kinds=opts["drop_flag_kind"] or list(DEFAULT_DROP_FLAGS),
            drop_bottom_pct=opts["drop_bottom_pct"],
            drop_top_pct=opts["drop_top_pct"],
            flip_below=opts["flip_below"],
            smoothing=opts["smoothing"],
            smooth_below=opts["smooth_below"],
            margin_lambda=opts["margin_lambda"],
            center_rewards_coefficient=opts["center_rewards"],
            epochs=opts["epochs"],
            lr=opts["lr"],
            batch_size=opts["batch_size"],
            hidden=opts["hidden"],
            max_length=opts["max_length"],
            model=opts["model"],
            seed=opts["seed"],
        )
        try:
            run = training_run_create(project=project, options=options)
        except TrainingError as exc:
            raise CommandError(str(exc)) from exc
        assert run.job is not None
        self.stdout.write(
            f"Training run {run.pk} ({run.name}) queued as job {run.job.pk} ({run.job.queue})."
        )
        if opts["wait"]:
            job_wait(job_id=run.job.pk)
            run.refresh_from_db()
            m = run.metrics
            self.stdout.write(self.style.SUCCESS(
                f"Held-out accuracy {m['accuracy']:.3f} on {m['n']} pairs, ECE {m['ece']:.3f}; "
                f"model v{run.model.version} at {run.model.path}"
            ))  # fmt: skip
