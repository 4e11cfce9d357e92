"""Step-labelled solutions for annotators: a solution as served, blind (the problem and its
steps, no imported labels, model, final answer's correctness or anyone's answer), and the
answer on it: a label per step, or only the first error (ProcessBench's way)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from webapp.api.serializers.items import LeaseAnswerSerializer, LeaseSerializer
from webapp.api.serializers.pairs import MessageSerializer

# The API's names for the step labels the answers store (+1, 0, -1).
STEP_LABELS = {"good": 1, "neutral": 0, "bad": -1}
MAX_STEPS = 10_000  # far above any solution; bounds a request's list


class ShownStepSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="0, 1, ...: what labels and first_error count.")
    text = serializers.CharField(allow_blank=True)


class StepAssignmentSerializer(LeaseSerializer):
    """A solution as an annotator is shown it."""

    problem = serializers.CharField(allow_blank=True)
    conversation = MessageSerializer(many=True, allow_null=True)
    steps = ShownStepSerializer(many=True)


class StepAnswerRequestSerializer(LeaseAnswerSerializer):
    labels = serializers.ListField(
        child=serializers.ChoiceField(choices=list(STEP_LABELS), allow_null=True),
        required=False,
        max_length=MAX_STEPS,
        help_text="One per step, in order: good, neutral, bad, or null (not labelled, as "
        "after stopping at the first bad step).",
    )
    first_error = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=-1,
        max_value=MAX_STEPS - 1,
        help_text="First-error mode: the index of the first wrong step, or -1 when every step "
        "is right. With labels, it must agree with them; alone, the steps before it are "
        "taken as good.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("labels") is None and attrs.get("first_error") is None:
            raise serializers.ValidationError(
                {"labels": ["send a label per step, or first_error (-1: all steps correct)"]}
            )
        return attrs
