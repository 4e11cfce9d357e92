"""Benchmarks: fixed sets of pairs that score reward models and judges, and what they scored.

A benchmark's pairs live in a project of their own (``Benchmark.project``), so they go through
the same import stage as any pairs and no other project ever trains on them; training refuses
a benchmark's own project (webapp/training/services.py). Each pair's category is
``Pair.metadata["category"]``; RM-Bench pairs also name their ``item`` and the two responses'
styles.
"""

from __future__ import annotations

from django.db import models

from webapp.jobs.models import Job, JobRun
from webapp.projects.models import Project
from webapp.registry.models import RegisteredModel


class Benchmark(models.Model):
    class Format(models.TextChoices):
        REWARDBENCH = "rewardbench", "RewardBench (prompt, chosen, rejected, subset)"
        JUDGEBENCH = "judgebench", "JudgeBench (question, response_A, response_B, label, source)"
        RMBENCH = "rmbench", "RM-Bench (three style variants per answer)"
        MAPPING = "mapping", "Any columns, named by a mapping"

    name = models.CharField(max_length=100, unique=True)
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="benchmark")
    format = models.CharField(max_length=20, choices=Format.choices)
    # {category: weight}: the weighted score is the weighted mean of category accuracies
    weights = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Evaluation(JobRun):
    """One job scoring a list of contenders on a benchmark (config["contenders"])."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="evaluations")
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="evaluation"
    )
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="evaluations")

    class Meta(JobRun.Meta):
        pass

    def __str__(self) -> str:
        return f"evaluation {self.pk} on {self.benchmark}"


class Result(models.Model):
    """One contender's figures on a benchmark: accuracy per category and overall, with their
    intervals, the weighted score and (RM-Bench) the style grid."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", "Registered PrefLab model"
        REWARD_MODEL = "reward_model", "External reward model"
        JUDGE = "judge", "Judge"
        ENSEMBLE = "ensemble", "A project's ensemble"
        BASELINE = "baseline", "Baseline"

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="results")
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="results")
    name = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    registered_model = models.ForeignKey(
        RegisteredModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accuracy = models.FloatField(null=True)
    figures = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["benchmark", "name", "-id"], name="result_latest")]

    def __str__(self) -> str:
        return f"{self.name} on {self.benchmark_id}: {self.accuracy}"
