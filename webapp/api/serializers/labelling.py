"""Labelling, blind: what an annotator is shown, and their votes and skips."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.serializers.pairs import MessageSerializer
from webapp.projects.models import MAX_STRENGTH_LEVELS


class AssignmentSerializer(serializers.Serializer):
    """A pair as an annotator sees it: blind. Sides, never A or B, labels, models or votes."""

    token = serializers.UUIDField()
    round = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    prompt = serializers.CharField()
    conversation = MessageSerializer(many=True, allow_null=True)
    left = serializers.CharField()
    right = serializers.CharField()
    strength_scale = serializers.ListField(
        child=serializers.CharField(),
        help_text="The project's strength levels, weakest first: a vote's `strength` is an "
        "index into this list. Empty: the project grades no strength.",
    )
    strength_required = serializers.BooleanField(
        help_text="Whether a `left` or `right` vote must carry a `strength` (with a scale)."
    )


class VoteRequestSerializer(serializers.Serializer):
    token = serializers.UUIDField()
    round = serializers.IntegerField(min_value=0, max_value=32767)
    choice = serializers.ChoiceField(
        choices=[("left", "left"), ("right", "right"), ("tie", "tie"), ("both_bad", "both bad")],
        help_text="The side the annotator preferred, as shown.",
    )
    strength = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_STRENGTH_LEVELS - 1,
        help_text="How much better the chosen side is: an index into the assignment's "
        "`strength_scale` (0 to its length - 1; a scale has at most "
        f"{MAX_STRENGTH_LEVELS} levels). Required for `left` / `right` where the assignment "
        "says `strength_required` and the scale is not empty; may be absent or null otherwise, "
        "and is ignored for `tie` and `both_bad`. A value past the scale is a 400 naming "
        "`strength`.",
    )
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
