"""Judges, their report, and the requests that add, run and feed them."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.serializers.jobs import JobSerializer
from webapp.judges.models import Judge, JudgeRun


class JudgeSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()
    n_verdicts = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Judge
        fields = ["id", "name", "kind", "source", "config", "fills_missing", "n_verdicts",
                  "created_at"]  # fmt: skip

    def get_kind(self, judge: Judge) -> str:
        return Judge.KIND


class JudgeRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    source_kind = serializers.ChoiceField(
        choices=Judge.Source.choices, help_text="what gives its verdicts (the judge's source)"
    )
    registered_model = serializers.IntegerField(required=False, min_value=1)
    path = serializers.CharField(required=False, max_length=1000)


class JudgeRunSerializer(serializers.ModelSerializer):
    job = JobSerializer(allow_null=True)

    class Meta:
        model = JudgeRun
        fields = ["id", "judge", "complete", "n_pairs", "job", "created_at", "finished_at"]


class VerdictUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    key_field = serializers.CharField(required=False, allow_blank=True, max_length=100)


class FillInSerializer(serializers.Serializer):
    on = serializers.BooleanField()


class JudgeReportSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField()
    figures = serializers.JSONField(source="data")
