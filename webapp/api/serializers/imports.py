"""An upload of pairs and the import's report."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.serializers.jobs import JobSerializer
from webapp.imports.formats import FORMATS


class ImportRequestSerializer(serializers.Serializer):
    """Multipart form fields, the same as the upload page's."""

    file = serializers.FileField()
    fmt = serializers.ChoiceField(choices=[(f, f) for f in FORMATS], required=False)
    mapping = serializers.CharField(required=False, allow_blank=True)
    split = serializers.CharField(required=False, max_length=20)
    strict = serializers.BooleanField(required=False)


class ImportBatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    file_name = serializers.CharField()
    fmt = serializers.CharField()
    status = serializers.CharField()
    records_seen = serializers.IntegerField()
    records_rejected = serializers.IntegerField()
    pairs_created = serializers.IntegerField()
    pairs_existing = serializers.IntegerField()
    votes_created = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())  # type: ignore[assignment]
    error = serializers.CharField()
    job = serializers.IntegerField(source="job_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ImportStartedSerializer(serializers.Serializer):
    import_batch = ImportBatchSerializer()
    job = JobSerializer()
