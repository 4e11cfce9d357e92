from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from webapp.labelling import ordering
from webapp.projects.models import MAX_STRENGTH_LEVELS, Membership


class ProjectSettingsForm(forms.Form):
    guidelines = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Shown to annotators above every pair; markdown.",
    )
    votes_per_pair = forms.IntegerField(
        min_value=1, max_value=50, help_text="Votes each pair should collect (a pair may override)."
    )
    strength_scale = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One level per line, weakest first; empty for no graded strength. Votes store "
        "the level's position, so keep the number of levels once labelling has started.",
    )
    strength_required = forms.BooleanField(
        required=False,
        label="Strength required",
        help_text="Checked: an A / B vote must choose a level. Unchecked: the level is optional "
        "and Enter sends a vote without one.",
    )
    queue_order = forms.ChoiceField(choices=ordering.choices)
    lease_minutes = forms.IntegerField(
        min_value=1, max_value=24 * 60, help_text="How long a served pair stays reserved."
    )

    def clean_strength_scale(self) -> list[str]:
        levels = [line.strip() for line in self.cleaned_data["strength_scale"].splitlines()]
        levels = [level for level in levels if level]
        if len(levels) > MAX_STRENGTH_LEVELS:
            raise forms.ValidationError(f"At most {MAX_STRENGTH_LEVELS} levels.")
        if any(len(level) > 60 for level in levels):
            raise forms.ValidationError("Keep each level under 60 characters.")
        return levels


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.ANNOTATOR)

    def clean_username(self) -> Any:
        user = get_user_model().objects.filter(username=self.cleaned_data["username"]).first()
        if user is None or not user.is_active:
            raise forms.ValidationError("No active user with that name.")
        return user
