"""Training runs, the models they register, and the options of a new run."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.api.serializers.exports import ExportFileSerializer
from webapp.api.serializers.jobs import JobSerializer
from webapp.registry.models import RegisteredModel
from webapp.training.models import TrainingRun


class RegisteredModelSerializer(serializers.ModelSerializer):
    files = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = ["id", "version", "kind", "path", "files", "created_at"]

    @extend_schema_field(ExportFileSerializer(many=True))
    def get_files(self, model: RegisteredModel) -> list[dict[str, Any]]:
        return [
            {
                "name": f["name"],
                "split": "",
                "rows": 0,
                "bytes": f["bytes"],
                "sha256": f["sha256"],
                "url": f"/training/models/{model.pk}/files/{f['name']}",
            }
            for f in model.files
        ]


class TrainingRunSerializer(serializers.ModelSerializer):
    job = JobSerializer(allow_null=True)
    model = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = [
            "id", "project", "kind", "name", "scoring_run", "config", "counts", "curves",
            "metrics", "complete", "job", "model", "created_at", "finished_at", "url",
        ]  # fmt: skip

    @extend_schema_field(RegisteredModelSerializer(allow_null=True))
    def get_model(self, run: TrainingRun) -> dict[str, Any] | None:
        model = getattr(run, "model", None)
        return None if model is None else dict(RegisteredModelSerializer(model).data)

    def get_url(self, run: TrainingRun) -> str:
        return f"/training/runs/{run.pk}/"


class TrainingRequestSerializer(serializers.Serializer):
    """The options of a training run; see `python manage.py train_rm --help`."""

    kind = serializers.ChoiceField(choices=TrainingRun.Kind.choices, default="head")
    scoring_run = serializers.IntegerField(required=False, allow_null=True, default=None)
    drop_flagged = serializers.BooleanField(default=False)
    drop_flag_kinds = serializers.ListField(child=serializers.CharField(), required=False)
    drop_bottom_pct = serializers.FloatField(default=0.0, min_value=0, max_value=99)
    drop_top_pct = serializers.FloatField(default=0.0, min_value=0, max_value=99)
    flip_below = serializers.FloatField(required=False, allow_null=True, default=None)
    smoothing = serializers.FloatField(default=0.0, min_value=0, max_value=0.49)
    smooth_below = serializers.FloatField(required=False, allow_null=True, default=None)
    margin_lambda = serializers.FloatField(default=0.0)
    center_rewards_coefficient = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=0
    )
    epochs = serializers.IntegerField(default=20, min_value=1, max_value=1000)
    hidden = serializers.IntegerField(default=0, min_value=0, max_value=4096)
    seed = serializers.IntegerField(default=0, min_value=0)
