"""Scoring runs, their per-pair ensemble scores, and the options of a new run."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.common import CursorPageSerializer
from webapp.api.serializers.jobs import JobSerializer
from webapp.scoring.models import ScoringRun


class ScoringRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    mode = serializers.CharField()
    complete = serializers.BooleanField()
    n_pairs = serializers.IntegerField()
    member_names = serializers.ListField(child=serializers.CharField())
    summary = serializers.DictField()
    job = serializers.IntegerField(source="job_id", allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ScoringRunRequestSerializer(serializers.Serializer):
    """The options of the project page's scoring form."""

    mode = serializers.ChoiceField(choices=ScoringRun.Mode.choices, default=ScoringRun.Mode.OOF)
    n_models = serializers.IntegerField(default=8, min_value=1, max_value=32)
    n_folds = serializers.IntegerField(default=5, min_value=2, max_value=20)


class ScoringRunStartedSerializer(serializers.Serializer):
    scoring_run = ScoringRunSerializer()
    job = JobSerializer()


class PairScoreSerializer(serializers.Serializer):
    pair = serializers.IntegerField(source="pair_id")
    label_scored = serializers.CharField(help_text="The label the run scored as chosen.")
    label_source = serializers.CharField()
    mu = serializers.FloatField(help_text="Ensemble mean of r(chosen) - r(rejected).")
    sigma = serializers.FloatField(help_text="Spread of that margin across the models.")
    p_label = serializers.FloatField()
    margins = serializers.ListField(child=serializers.FloatField(), help_text="One per model.")
    decile = serializers.IntegerField()


class ScoreFilterSerializer(serializers.Serializer):
    decile = serializers.IntegerField(required=False, min_value=0, max_value=9)
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)


class PairScorePageSerializer(CursorPageSerializer):
    results = PairScoreSerializer(many=True)
