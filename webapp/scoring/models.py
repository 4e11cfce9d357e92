"""Scoring runs: an ensemble of reward models measures every pair's preference strength."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from webapp.jobs.models import Job
from webapp.pairs.models import Pair
from webapp.projects.models import Project


class ScoringRun(models.Model):
    class Mode(models.TextChoices):
        OOF = "oof", "Out-of-fold (no pair scored by a model that saw it)"
        INSAMPLE = "insample", "In-sample (as in the paper)"
        FINETUNE = "finetune", "Fine-tune full reward models (GPU)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="scoring_runs")
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="scoring_run"
    )
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.OOF)
    # Everything needed to repeat the run: encoder, ensemble and flag settings.
    config = models.JSONField(default=dict)
    seeds = models.JSONField(default=list, blank=True)
    versions = models.JSONField(default=dict, blank=True)
    member_names = models.JSONField(default=list, blank=True)
    n_pairs = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    # Set in the same transaction that writes the scores: a run is never shown half-written.
    complete = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"scoring run {self.pk} of {self.project}"


class PairScore(models.Model):
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="scores")
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="scores")
    # d_m = r_m(prompt, chosen) - r_m(prompt, rejected), "chosen" being label_scored.
    label_scored = models.CharField(max_length=1)
    label_source = models.CharField(max_length=20, default="imported")
    mu = models.FloatField()
    sigma = models.FloatField()
    p_label = models.FloatField()
    margins = ArrayField(models.FloatField())
    decile = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "pair"], name="one_score_per_pair_and_run")
        ]
        indexes = [models.Index(fields=["run", "mu"], name="score_run_mu")]

    def __str__(self) -> str:
        return f"pair {self.pair_id}: mu={self.mu:.3f} sigma={self.sigma:.3f}"
