"""Training runs and the fixed held-out split they are all judged on. The models they save
are registered in webapp/registry."""

from __future__ import annotations

from django.db import models

from webapp.jobs.models import Job, JobRun
from webapp.pairs.models import Pair
from webapp.projects.models import Project
from webapp.registry.models import ModelKind


class HeldOutPair(models.Model):
    """A pair kept out of every training run of its project: drawn once, never changed.

    The first training run of a project draws the split (webapp/training/services.py,
    `holdout_ensure`); pairs imported later only ever train."""

    pair = models.OneToOneField(
        Pair, primary_key=True, on_delete=models.CASCADE, related_name="held_out"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="held_out_pairs")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"held-out pair {self.pair_id}"


class TrainingRun(JobRun):
    Kind = ModelKind

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="training_runs")
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_run"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HEAD)
    # The scoring run whose mu the recipe reads (and whose deciles split the metrics).
    scoring_run = models.ForeignKey(
        "scoring.ScoringRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True, help_text="The recipe, in short")
    # config: the options as asked for, then the full recipe and training configs as run
    # Training pairs kept, dropped, flipped, smoothed; held-out size.
    counts = models.JSONField(default=dict, blank=True)
    # Per epoch: train_loss, train_accuracy, heldout_loss, heldout_accuracy. Written as the
    # run goes, so the page shows them live and keeps them afterwards.
    curves = models.JSONField(default=dict, blank=True)
    # Held-out accuracy (overall, per strength decile, gold), loss, ECE, reliability diagram.
    metrics = models.JSONField(default=dict, blank=True)
    versions = models.JSONField(default=dict, blank=True)
    # complete: set in the transaction that registers the model (webapp/registry)

    class Meta(JobRun.Meta):
        pass

    def __str__(self) -> str:
        return f"training run {self.pk} of {self.project}"
