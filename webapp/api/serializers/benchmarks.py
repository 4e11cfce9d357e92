"""Benchmarks, their leaderboards, and evaluations."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.serializers.jobs import JobSerializer
from webapp.benchmarks.formats import FORMATS
from webapp.benchmarks.models import Benchmark, Evaluation, Result


class BenchmarkSerializer(serializers.ModelSerializer):
    n_pairs = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Benchmark
        fields = ["id", "name", "format", "weights", "project", "n_pairs", "created_at"]


class BenchmarkImportSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    format = serializers.ChoiceField(choices=FORMATS)
    file = serializers.FileField()
    weights = serializers.JSONField(required=False, help_text="{category: weight}")
    mapping = serializers.JSONField(required=False, help_text="for the mapping format")


class BenchmarkImportedSerializer(serializers.Serializer):
    benchmark = BenchmarkSerializer()
    pairs = serializers.IntegerField()
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    rejected = serializers.IntegerField()
    rejected_records = serializers.JSONField(source="errors")


class ResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = Result
        fields = ["id", "name", "kind", "registered_model", "accuracy", "figures", "evaluation",
                  "created_at"]  # fmt: skip


class EvaluationSerializer(serializers.ModelSerializer):
    job = JobSerializer(allow_null=True)
    results = ResultSerializer(many=True, read_only=True)

    class Meta:
        model = Evaluation
        fields = ["id", "benchmark", "complete", "config", "job", "results", "created_at",
                  "finished_at"]  # fmt: skip


class EvaluationRequestSerializer(serializers.Serializer):
    contenders = serializers.ListField(
        child=serializers.CharField(max_length=1000),
        default=["all"],
        help_text="registered:ID, rm:PATH, judge:ID, ensemble:PROJECT, always_a, random, all",
    )
    seed = serializers.IntegerField(default=0)
