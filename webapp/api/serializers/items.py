"""Items (a prompt with several responses) and answers on them. For reviewers: an item with
its answers; for annotators: an item as served, blind (numbered as shown, no models, no one's
answers)."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.common import CursorPageSerializer
from webapp.api.serializers.pairs import MessageSerializer
from webapp.pairs.previews import PREVIEW_CHARS


class AttributeSerializer(serializers.Serializer):
    name = serializers.CharField()
    low = serializers.FloatField()
    high = serializers.FloatField()
    description = serializers.CharField(allow_blank=True)


class ItemPreviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    split = serializers.CharField()
    external_id = serializers.CharField(allow_blank=True)
    prompt = serializers.CharField(
        source="prompt_preview",
        allow_blank=True,
        help_text=f"The first {PREVIEW_CHARS} characters of the prompt (a conversation's as "
        "one transcript); the item's own endpoint has it whole.",
    )
    prompt_length = serializers.IntegerField()
    responses = serializers.IntegerField(source="n_responses")
    answers = serializers.IntegerField(source="n_answers")


class ItemPageSerializer(CursorPageSerializer):
    results = ItemPreviewSerializer(many=True)


class ItemResponseSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    text = serializers.CharField(source="response.text", allow_blank=True)
    model = serializers.CharField(source="response.source_model", allow_blank=True)


class ItemAnswerSerializer(serializers.Serializer):
    annotator = serializers.IntegerField(source="annotator_id")
    kind = serializers.CharField()
    payload = serializers.JSONField(help_text="The answer, in its kind's shape (see the docs).")
    created_at = serializers.DateTimeField()


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    split = serializers.CharField()
    external_id = serializers.CharField(allow_blank=True)
    prompt = serializers.CharField(source="prompt.text", allow_blank=True)
    conversation = MessageSerializer(source="prompt.conversation", many=True, allow_null=True)
    responses = ItemResponseSerializer(many=True, source="ordered_responses")
    answers = ItemAnswerSerializer(many=True, source="ordered_answers")
    derived_pairs = serializers.IntegerField(source="n_pairs")
    metadata = serializers.JSONField()


class ShownResponseSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="Its number as shown: 1, 2, ...")
    position = serializers.IntegerField(help_text="What the answer's payload calls it.")
    text = serializers.CharField(allow_blank=True)


class LeaseSerializer(serializers.Serializer):
    """The lease an item is served on: what its answer names."""

    token = serializers.UUIDField()
    round = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class ItemAssignmentSerializer(LeaseSerializer):
    """An item as an annotator is shown it: its responses in an order drawn for this lease."""

    kind = serializers.CharField(
        help_text="The answer to send: ranking, best_worst, rating or pairwise_attributes."
    )
    prompt = serializers.CharField(allow_blank=True)
    conversation = MessageSerializer(many=True, allow_null=True)
    responses = ShownResponseSerializer(many=True)
    attributes = AttributeSerializer(many=True)


class LeaseAnswerSerializer(serializers.Serializer):
    """What every answer on a lease sends besides the answer itself."""

    token = serializers.UUIDField()
    round = serializers.IntegerField(min_value=0, max_value=32767)
    time_ms = serializers.IntegerField(required=False, allow_null=True, min_value=0)


class AnswerRequestSerializer(LeaseAnswerSerializer):
    payload = serializers.JSONField(
        help_text='ranking {"tiers": [[pos, ...], ...]} best first; best_worst {"shown": '
        '[pos, ...], "best": pos, "worst": pos}; rating {"ratings": {"<pos>": {"<attribute>": '
        'value}}}; pairwise_attributes {"overall": "a|b|tie", "attributes": {"<attribute>": '
        '"a|b|tie"}} (a: position 0). Positions are those the assignment lists.'
    )


class AnswerResultSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="stored, or duplicate for a retry.")
    answer = serializers.IntegerField(allow_null=True)
