"""Judges: annotators that are not people (a reward model, an LLM's imported verdicts, the
project's ensemble), and their verdicts, kept in a table of their own.

A judge's verdicts are never votes: aggregation, agreement and the labelling queue read
``labelling_vote`` only, so a judge cannot become a human label by accident. The one way in is
``Judge.fills_missing``, which a project admin sets on at most one judge: the effective label
(webapp/pairs/labels.py) then takes that judge's verdict on a pair nobody voted on, with the
source "judge", before falling back to the imported label.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from webapp.jobs.models import Job, JobRun
from webapp.pairs.models import Pair
from webapp.projects.models import Project


class Judge(models.Model):
    class Source(models.TextChoices):
        REWARD_MODEL = "reward_model", "Reward model (registered or Hugging Face)"
        VERDICTS = "verdicts", "Imported verdicts"
        ENSEMBLE = "ensemble", "The project's ensemble (latest scoring run)"

    # What the judges page calls this annotator's kind, beside people's "human".
    KIND = "judge"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="judges")
    name = models.CharField(max_length=100)
    source = models.CharField(max_length=20, choices=Source.choices)
    # reward_model: {"registered_model": id} or {"path": HF folder}; verdicts: the file's name
    config = models.JSONField(default=dict, blank=True)
    fills_missing = models.BooleanField(
        default=False,
        help_text="Its verdict labels pairs that have no human vote (at most one judge).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="one_judge_name_per_project"),
            models.UniqueConstraint(
                fields=["project"], condition=Q(fills_missing=True), name="one_filling_judge"
            ),
        ]

    def __str__(self) -> str:
        return f"judge {self.name} of {self.project}"


class JudgeVerdict(models.Model):
    """A judge's answer on one pair, about response_a / response_b (never a screen side).

    ``choice_ab`` / ``choice_ba`` are its answers with A shown first and with B shown first,
    where it was asked that way; ``choice`` is the verdict that counts (the two agreeing, or
    the one asked; a reward model's sign of its mean margin over both orders)."""

    judge = models.ForeignKey(Judge, on_delete=models.CASCADE, related_name="verdicts")
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=10)
    choice_ab = models.CharField(max_length=10, blank=True)
    choice_ba = models.CharField(max_length=10, blank=True)
    # r(a) - r(b) of a reward-model or ensemble judge (mean over both orders); null otherwise
    margin = models.FloatField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["judge", "pair"], name="one_verdict_per_judge_pair")
        ]
        indexes = [models.Index(fields=["pair"], name="verdict_pair")]

    def __str__(self) -> str:
        return f"{self.judge_id} on {self.pair_id}: {self.choice}"


class JudgeRun(JobRun):
    """A reward-model or ensemble judge scoring every pair of its project, on a worker."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="judge_runs")
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="judge_run"
    )
    judge = models.ForeignKey(Judge, on_delete=models.CASCADE, related_name="runs")
    n_pairs = models.PositiveIntegerField(default=0)

    class Meta(JobRun.Meta):
        pass

    def __str__(self) -> str:
        return f"judge run {self.pk} of {self.judge_id}"


class JudgeReport(models.Model):
    """The judges page's figures at one moment (the page shows the latest): every judge against
    the human aggregate, and the people against each other."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "-created_at"], name="judge_report_latest")]

    def __str__(self) -> str:
        return f"judge report of {self.project_id} at {self.created_at:%Y-%m-%d %H:%M}"
