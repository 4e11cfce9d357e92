"""Export snapshots, their files, and the options of a new export."""

from __future__ import annotations

import math
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.api.serializers.jobs import JobSerializer
from webapp.exports.models import ExportSnapshot


class ExportRequestSerializer(serializers.Serializer):
    file_format = serializers.ChoiceField(choices=ExportSnapshot.FileFormat.choices)
    style = serializers.ChoiceField(  # type: ignore[assignment]
        choices=ExportSnapshot.Style.choices, default=ExportSnapshot.Style.STANDARD
    )
    with_margin = serializers.BooleanField(default=False)
    split = serializers.CharField(required=False, allow_blank=True, max_length=20)
    drop_flagged = serializers.BooleanField(default=False)
    min_strength = serializers.FloatField(required=False, allow_null=True)
    reviewed_only = serializers.BooleanField(default=False)

    def validate_min_strength(self, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise serializers.ValidationError("must be a finite number")
        return value


class ExportFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    split = serializers.CharField()
    rows = serializers.IntegerField()
    bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.CharField()


class ExportSnapshotSerializer(serializers.ModelSerializer):
    files = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = ExportSnapshot
        fields = [
            "id",
            "project",
            "version",
            "status",
            "file_format",
            "style",
            "with_margin",
            "filters",
            "scoring_run_id",
            "row_count",
            "counts",
            "files",
            "preflab_version",
            "error",
            "job",
            "created_at",
            "finished_at",
            "url",
        ]

    def get_url(self, snapshot: ExportSnapshot) -> str:
        return f"/exports/{snapshot.pk}/"

    @extend_schema_field(ExportFileSerializer(many=True))
    def get_files(self, snapshot: ExportSnapshot) -> list[dict[str, Any]]:
        return [
            {
                "name": f["name"],
                "split": f.get("split", ""),
                "rows": f.get("rows", 0),
                "bytes": f.get("bytes", 0),
                "sha256": f.get("sha256", ""),
                "url": f"/api/exports/{snapshot.pk}/files/{f['name']}",
            }
            for f in snapshot.files
        ]


class ExportStartedSerializer(serializers.Serializer):
    export = ExportSnapshotSerializer()
    job = JobSerializer()
