"""Review decisions (one pair, or every pair of a filter in bulk) and the log of them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from webapp.api.common import CursorPageSerializer
from webapp.review.decisions import DEFAULT_EXTRA_VOTES

REVIEW_ACTIONS = ["keep", "flip", "tie", "drop", "more_votes", "undo"]
BULK_REVIEW_ACTIONS = REVIEW_ACTIONS[:-1]


class ReviewDecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    pair = serializers.IntegerField(source="pair_id")
    reviewer = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    outcome = serializers.CharField()
    label_before = serializers.CharField()
    source_before = serializers.CharField()
    label_after = serializers.CharField()
    reason = serializers.CharField()
    votes_requested = serializers.IntegerField()
    flag = serializers.IntegerField(source="flag_id", allow_null=True)
    flag_kind = serializers.CharField()
    scoring_run = serializers.IntegerField(source="scoring_run_id", allow_null=True)
    undoes = serializers.IntegerField(source="undoes_id", allow_null=True)
    bulk = serializers.IntegerField(source="bulk_id", allow_null=True)

    def get_reviewer(self, decision: Any) -> str | None:
        return decision.reviewer.get_username() if decision.reviewer else None


class ReviewDecisionPageSerializer(CursorPageSerializer):
    results = ReviewDecisionSerializer(many=True)


class ReviewDecisionRequestSerializer(serializers.Serializer):
    pair = serializers.IntegerField(min_value=1, max_value=2**62)
    action = serializers.ChoiceField(choices=REVIEW_ACTIONS)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    votes = serializers.IntegerField(
        required=False, min_value=1, max_value=20, default=DEFAULT_EXTRA_VOTES,
        help_text="More votes per pair, for `more_votes` (the review page's default if absent).",
    )  # fmt: skip
    flag = serializers.IntegerField(required=False, min_value=1, max_value=2**62)


class ReviewFilterSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, allow_blank=True, max_length=40)
    mu_min = serializers.FloatField(required=False, allow_null=True)
    mu_max = serializers.FloatField(required=False, allow_null=True)
    annotator = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                         max_value=2**62)  # fmt: skip
    split = serializers.CharField(required=False, allow_blank=True, max_length=20)
    state = serializers.ChoiceField(
        required=False,
        allow_blank=True,
        choices=["", "undecided", "decided", "sent_back", "keep", "flip", "tie", "drop"],
    )
    votes_disagree = serializers.BooleanField(required=False)


class ReviewBulkRequestSerializer(serializers.Serializer):
    filter = ReviewFilterSerializer(required=False)
    action = serializers.ChoiceField(choices=BULK_REVIEW_ACTIONS)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    votes = serializers.IntegerField(
        required=False, min_value=1, max_value=20, default=DEFAULT_EXTRA_VOTES,
        help_text="More votes per pair, for `more_votes` (the review page's default if absent).",
    )  # fmt: skip
    confirm = serializers.BooleanField(
        required=False, default=False, help_text="false: only count; true: decide them."
    )


class ReviewBulkResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    filter = serializers.DictField()
    count = serializers.IntegerField(help_text="Pairs it decides (preview) or decided.")
    confirmed = serializers.BooleanField()
    bulk = serializers.IntegerField(allow_null=True)
