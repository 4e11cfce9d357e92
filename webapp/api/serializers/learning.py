"""Flag precision per kind and the noise model's P(wrong) per pair."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.common import CursorPageSerializer


class PrecisionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    flagged = serializers.IntegerField(help_text="Pairs with a flag of this kind.")
    answered = serializers.IntegerField(help_text="Of those, pairs with an answer.")
    confirmed = serializers.IntegerField(help_text="Answers saying the label was wrong.")
    precision = serializers.FloatField(source="share", allow_null=True)
    low = serializers.FloatField(allow_null=True, help_text="Wilson 95% interval, low end.")
    high = serializers.FloatField(allow_null=True, help_text="Wilson 95% interval, high end.")


class PrecisionFilterSerializer(serializers.Serializer):
    run = serializers.IntegerField(
        required=False, min_value=1, max_value=10**18 - 1,
        help_text="A scoring run's id; the latest complete one by default.",
    )  # fmt: skip


class PrecisionListSerializer(serializers.Serializer):
    run = serializers.IntegerField(allow_null=True)
    kinds = PrecisionSerializer(many=True)


class PairNoiseSerializer(serializers.Serializer):
    pair = serializers.IntegerField(source="pair_id")
    p_wrong = serializers.FloatField(help_text="P(the pair's label is wrong).")
    why = serializers.ListField(
        child=serializers.ListField(), help_text="[[feature, part of the logit], ...]"
    )
    fit = serializers.IntegerField(source="fit_id")


class NoiseFilterSerializer(serializers.Serializer):
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)


class NoisePageSerializer(CursorPageSerializer):
    results = PairNoiseSerializer(many=True)
