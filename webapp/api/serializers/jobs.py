"""A background job's status and progress; imports, exports and scoring runs answer with one."""

from __future__ import annotations

from rest_framework import serializers

from webapp.jobs.models import Job


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.FloatField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "project",
            "status",
            "progress_done",
            "progress_total",
            "percent",
            "message",
            "error",
            "result",
            "cancel_requested",
            "created_at",
            "started_at",
            "finished_at",
            "url",
        ]

    def get_url(self, job: Job) -> str:
        return f"/jobs/{job.pk}/"
