"""Consistency checks: one row per run of the checks, a project's check settings, and the
answers annotators gave to pairs served to them a second time (self-consistency)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.jobs.models import Job
from webapp.labelling.models import Assignment
from webapp.pairs.models import Pair
from webapp.projects.models import Project


class ChecksSettings(models.Model):
    """Per-project knobs of the checks; a project without a row uses these defaults."""

    project = models.OneToOneField(
        Project, primary_key=True, on_delete=models.CASCADE, related_name="checks_settings"
    )
    # Share of an annotator's votes whose pair is served to them again, A and B swapped.
    # 0 turns repeats off (the default: each repeat costs an annotator's time).
    repeat_share = models.FloatField(default=0.0)
    # A repeat comes only after the annotator cast this many other votes since the first one,
    # so that they answer the pair afresh rather than from memory.
    repeat_gap = models.PositiveIntegerField(default=20)
    # Cosine similarity band of prompt embeddings for contrast pairs.
    band_low = models.FloatField(default=0.75)
    band_high = models.FloatField(default=0.9)
    neighbours = models.PositiveSmallIntegerField(default=16)

    def __str__(self) -> str:
        return f"checks settings of {self.project_id}"


class CheckRun(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="check_runs")
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="check_run"
    )
    # The scoring run whose ensemble the model checks used (the latest complete one).
    scoring_run = models.ForeignKey(
        "scoring.ScoringRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    config = models.JSONField(default=dict)
    # Every figure the checks page shows (rates, counts, chart series, example pairs).
    summary = models.JSONField(default=dict, blank=True)
    # Set in the transaction that writes the flags: a run is never shown half-written.
    complete = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"check run {self.pk} of {self.project}"


class RepeatAnswer(models.Model):
    """An annotator's answer to a pair served to them a second time. It is no Vote: it never
    counts toward the pair's wanted votes nor enters aggregation; it only measures how well
    the annotator agrees with themselves."""

    assignment = models.OneToOneField(
        Assignment, primary_key=True, on_delete=models.CASCADE, related_name="repeat_answer"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # Like Vote.choice: about the pair's response_a / response_b, never a screen side.
    choice = models.CharField(max_length=10)
    shown_order = models.CharField(max_length=2)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["project", "annotator"], name="repeat_project_annotator")]

    def __str__(self) -> str:
        return f"repeat of pair {self.pair_id} by {self.annotator_id}: {self.choice}"
