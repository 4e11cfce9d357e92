"""Flags on pairs (from scoring runs, checks and people) and on the solutions of a steps
project (from the step model's runs), and their filters."""

from __future__ import annotations

import re

from rest_framework import serializers

from webapp.api.common import CursorPageSerializer


class FlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    pair = serializers.IntegerField(source="pair_id", allow_null=True)
    item = serializers.IntegerField(
        source="item_id", allow_null=True, help_text="A steps project's solution; pair is null."
    )
    kind = serializers.CharField()
    severity = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]
    scoring_run = serializers.IntegerField(source="scoring_run_id", allow_null=True)
    details = serializers.DictField()
    created_at = serializers.DateTimeField()


class FlagFilterSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, max_length=40, help_text="e.g. `ambiguous`.")
    run = serializers.CharField(
        required=False,
        max_length=18,
        help_text="A scoring run's id, or `none` for flags tied to no run (checks, people).",
    )
    pair = serializers.IntegerField(required=False, min_value=1, max_value=10**18 - 1)
    item = serializers.IntegerField(required=False, min_value=1, max_value=10**18 - 1)
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)

    def validate_run(self, value: str) -> str:
        if value != "none" and not re.fullmatch("[0-9]+", value):
            raise serializers.ValidationError("a scoring run's id, or `none`")
        return value


class FlagPageSerializer(CursorPageSerializer):
    results = FlagSerializer(many=True)
