"""Labelling, blind: what an annotator is shown, and their votes and skips."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.serializers.pairs import MessageSerializer


class AssignmentSerializer(serializers.Serializer):
    """A pair as an annotator sees it: blind. Sides, never A or B, labels, models or votes."""

    token = serializers.UUIDField()
    round = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    prompt = serializers.CharField()
    conversation = MessageSerializer(many=True, allow_null=True)
    left = serializers.CharField()
    right = serializers.CharField()
    strength_scale = serializers.ListField(child=serializers.CharField())


class VoteRequestSerializer(serializers.Serializer):
    token = serializers.UUIDField()
    round = serializers.IntegerField(min_value=0, max_value=32767)
    choice = serializers.ChoiceField(
        choices=[("left", "left"), ("right", "right"), ("tie", "tie"), ("both_bad", "both bad")],
        help_text="The side the annotator preferred, as shown.",
    )
    strength = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100)
    rationale = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    time_ms = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2_000_000_000
    )


class VoteResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("stored", "stored"), ("duplicate", "duplicate")],
    )
    vote = serializers.IntegerField(allow_null=True)


class SkipRequestSerializer(serializers.Serializer):
    token = serializers.UUIDField()
    round = serializers.IntegerField(min_value=0, max_value=32767)


class SkipResultSerializer(serializers.Serializer):
    skipped = serializers.BooleanField()
