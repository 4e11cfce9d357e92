"""Pairs with their texts, models and imported labels (for reviewers), and their filters."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.common import CursorPageSerializer
from webapp.pairs.models import Pair


class MessageSerializer(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField(allow_blank=True)


class PairSerializer(serializers.ModelSerializer):
    prompt = serializers.CharField(source="prompt.text", help_text="Empty for conversations.")
    conversation = MessageSerializer(source="prompt.conversation", many=True, allow_null=True)
    response_a = serializers.CharField(source="response_a.text")
    response_b = serializers.CharField(source="response_b.text")
    model_a = serializers.CharField(source="response_a.source_model")
    model_b = serializers.CharField(source="response_b.source_model")
    votes = serializers.IntegerField(source="n_votes")

    class Meta:
        model = Pair
        fields = [
            "id",
            "split",
            "external_id",
            "prompt",
            "conversation",
            "response_a",
            "response_b",
            "model_a",
            "model_b",
            "imported_label",
            "votes",
            "source_file",
            "source_line",
            "metadata",
            "created_at",
        ]


class PairFilterSerializer(serializers.Serializer):
    split = serializers.CharField(required=False, max_length=20)
    label = serializers.ChoiceField(  # type: ignore[assignment]
        required=False,
        choices=[("a", "a"), ("b", "b"), ("tie", "tie"), ("none", "none")],
        help_text="The imported label; `none` for pairs imported without one.",
    )
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)


class PairPageSerializer(CursorPageSerializer):
    results = PairSerializer(many=True)
