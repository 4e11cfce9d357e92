from __future__ import annotations

from typing import Any

from django import forms

from webapp.flags.models import Flag
from webapp.training.models import TrainingRun
from webapp.training.options import DEFAULT_DROP_FLAGS, TrainingOptions


class TrainingForm(forms.Form):
    """What the training page asks for; the API and `train_rm` build the same options."""

    kind = forms.ChoiceField(label="Model", choices=TrainingRun.Kind.choices, initial="head")
    scoring_run = forms.TypedChoiceField(
        label="Strength from scoring run", required=False, coerce=int, empty_value=None,
        choices=[("", "the latest complete run")],
        help_text="Its mu drives drop, flip, smoothing and margin, and splits the metrics.",
    )  # fmt: skip
    drop_flagged = forms.BooleanField(required=False, help_text="Leave out flagged pairs.")
    drop_flag_kinds = forms.MultipleChoiceField(
        required=False, choices=Flag.Kind.choices, initial=DEFAULT_DROP_FLAGS,
        widget=forms.CheckboxSelectMultiple, label="Flags that drop a pair",
    )  # fmt: skip
    drop_bottom_pct = forms.FloatField(
        initial=0, min_value=0, max_value=99, label="Drop the bottom % by mu"
    )
    drop_top_pct = forms.FloatField(initial=0, min_value=0, max_value=99, label="Drop the top %")
    flip_below = forms.FloatField(
        required=False, label="Flip labels where mu <", help_text="Empty: flip nothing."
    )
    smoothing = forms.FloatField(
        initial=0, min_value=0, max_value=0.49, label="Label smoothing a",
        help_text="Loss -[(1 - a) log p + a log(1 - p)].",
    )  # fmt: skip
    smooth_below = forms.FloatField(
        required=False, label="Smooth only where mu <", help_text="Empty: every pair."
    )
    margin_lambda = forms.FloatField(
        initial=0, label="Adaptive margin lambda", help_text="m = lambda * mu."
    )
    center_rewards_coefficient = forms.FloatField(
        required=False, min_value=0, label="Reward centring coefficient",
        help_text="TRL's center_rewards_coefficient; empty: off.",
    )  # fmt: skip
    epochs = forms.IntegerField(initial=20, min_value=1, max_value=1000)
    hidden = forms.IntegerField(
        initial=0, min_value=0, max_value=4096, label="Head hidden units (0 = linear)"
    )
    seed = forms.IntegerField(initial=0, min_value=0)

    def __init__(self, *args: Any, scoring_runs: list[tuple[int, str]] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        field = self.fields["scoring_run"]
        if scoring_runs and isinstance(field, forms.ChoiceField):
            field.choices = [("", "the latest complete run"), *scoring_runs]

    def options(self) -> TrainingOptions:
        data = self.cleaned_data
        return TrainingOptions(
            kind=data["kind"],
            scoring_run=data.get("scoring_run"),
            drop_flagged=data["drop_flagged"],
            drop_flag_kinds=list(data["drop_flag_kinds"] or DEFAULT_DROP_FLAGS),
            drop_bottom_pct=data["drop_bottom_pct"],
            drop_top_pct=data["drop_top_pct"],
            flip_below=data.get("flip_below"),
            smoothing=data["smoothing"],
            smooth_below=data.get("smooth_below"),
            margin_lambda=data["margin_lambda"],
            center_rewards_coefficient=data.get("center_rewards_coefficient"),
            epochs=data["epochs"],
            hidden=data["hidden"],
            seed=data["seed"],
        )
