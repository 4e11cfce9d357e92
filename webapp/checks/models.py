"""Consistency checks: one row per run of the checks and a project's check settings. The
answers annotators gave to pairs served to them a second time (self-consistency) belong to the
labelling queue (webapp/labelling/repeats.py); the checks page only reads them."""

from __future__ import annotations

from django.db import models

from webapp.jobs.models import Job, JobRun
from webapp.projects.models import Project


class ChecksSettings(models.Model):
    """Per-project knobs of the checks; a project without a row uses these defaults."""

    project = models.OneToOneField(
        Project, primary_key=True, on_delete=models.CASCADE, related_name="checks_settings"
    )
    # Cosine similarity band of prompt embeddings for contrast pairs.
    band_low = models.FloatField(default=0.75)
    band_high = models.FloatField(default=0.9)
    neighbours = models.PositiveSmallIntegerField(default=16)

    def __str__(self) -> str:
        return f"checks settings of {self.project_id}"


class CheckRun(JobRun):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="check_runs")
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="check_run"
    )
    # The scoring run whose ensemble the model checks used (the latest complete one).
    scoring_run = models.ForeignKey(
        "scoring.ScoringRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Every figure the checks page shows (rates, counts, chart series, example pairs).
    summary = models.JSONField(default=dict, blank=True)

    class Meta(JobRun.Meta):
        pass

    def __str__(self) -> str:
        return f"check run {self.pk} of {self.project}"
