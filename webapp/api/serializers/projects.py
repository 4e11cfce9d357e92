"""A project as the API shows it: to every member, with their role."""

from __future__ import annotations

from rest_framework import serializers

from webapp.projects.models import Membership


class ProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    created_at = serializers.DateTimeField()


class ProjectDetailSerializer(ProjectSerializer):
    guidelines = serializers.CharField()
    strength_scale = serializers.ListField(child=serializers.CharField())
    strength_required = serializers.BooleanField()
    votes_per_pair = serializers.IntegerField()
    label_scheme = serializers.CharField(
        help_text="pairwise, ranking, rating or pairwise_attributes: what is labelled."
    )
    scheme_settings = serializers.JSONField(
        help_text="Attributes (name, low, high, description), ranking_mode, best_worst_shown, "
        "derivation (all or best_vs_rest) and overall weights."
    )
    items = serializers.IntegerField(help_text="Items of several responses (0 for pairs).")
    pairs = serializers.IntegerField()
    pairs_by_split = serializers.DictField(child=serializers.IntegerField())
    # Imported labels are not for annotators: null for them.
    pairs_by_label = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
