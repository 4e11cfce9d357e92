"""Pairs with their texts, models and imported labels (for reviewers), and their filters. A
page of pairs carries bounded previews of the texts (webapp/pairs/previews.py); one pair its
whole texts."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.common import CursorPageSerializer
from webapp.pairs.models import Pair
from webapp.pairs.previews import PREVIEW_CHARS


class MessageSerializer(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField(allow_blank=True)


PAIR_FIELDS = ["id", "split", "external_id", "model_a", "model_b", "imported_label", "votes",
               "source_file", "source_line", "metadata", "created_at"]  # fmt: skip


class PairSerializer(serializers.ModelSerializer):
    """One pair, its texts whole."""

    prompt = serializers.CharField(source="prompt.text", help_text="Empty for conversations.")
    conversation = MessageSerializer(source="prompt.conversation", many=True, allow_null=True)
    response_a = serializers.CharField(source="response_a.text")
    response_b = serializers.CharField(source="response_b.text")
    model_a = serializers.CharField(source="response_a.source_model")
    model_b = serializers.CharField(source="response_b.source_model")
    votes = serializers.IntegerField(source="n_votes")

    class Meta:
        model = Pair
        fields = [*PAIR_FIELDS, "prompt", "conversation", "response_a", "response_b"]


def _preview(source: str, what: str) -> serializers.CharField:
    return serializers.CharField(
        source=f"preview.{source}.text",
        help_text=f"The first {PREVIEW_CHARS} characters of {what}; the pair's own endpoint "
        "has it whole.",
    )


def _length(source: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        source=f"preview.{source}.length", help_text="Its length in characters, whole."
    )


class PairPreviewSerializer(serializers.ModelSerializer):
    """A pair in a page of pairs: its texts as bounded previews, with their full lengths."""

    prompt = _preview("prompt", "the prompt (a conversation's as one transcript)")
    prompt_length = _length("prompt")
    response_a = _preview("a", "response A")
    response_a_length = _length("a")
    response_b = _preview("b", "response B")
    response_b_length = _length("b")
    model_a = serializers.CharField()
    model_b = serializers.CharField()
    votes = serializers.IntegerField(source="n_votes")

    class Meta:
        model = Pair
        fields = [*PAIR_FIELDS, "prompt", "prompt_length", "response_a", "response_a_length",
                  "response_b", "response_b_length"]  # fmt: skip


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
    results = PairPreviewSerializer(many=True)
