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
    pairs = serializers.IntegerField()
    pairs_by_split = serializers.DictField(child=serializers.IntegerField())
    # Imported labels are not for annotators: null for them.
    pairs_by_label = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
