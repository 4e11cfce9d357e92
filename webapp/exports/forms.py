from __future__ import annotations

import math
from typing import Any

from django import forms

from webapp.exports.models import ExportSnapshot
from webapp.exports.selectors import ExportSpec


class ExportForm(forms.Form):
    """What the export page, the API and the command all ask for."""

    file_format = forms.ChoiceField(
        label="Format", choices=ExportSnapshot.FileFormat.choices, initial="parquet"
    )
    style = forms.ChoiceField(
        label="Layout", choices=ExportSnapshot.Style.choices, initial="standard"
    )
    with_margin = forms.BooleanField(
        required=False,
        label="Margin column",
        help_text="max(mu, 0) from the latest scoring run, for TRL's reward loss.",
    )
    split = forms.ChoiceField(label="Split", required=False, choices=[("", "all splits")])
    drop_flagged = forms.BooleanField(required=False, help_text="Leave out pairs with any flag.")
    min_strength = forms.FloatField(
        required=False,
        label="Minimum strength",
        help_text="Leave out pairs whose ensemble strength mu is below this (or unmeasured).",
    )
    reviewed_only = forms.BooleanField(
        required=False, help_text="Only pairs a reviewer decided on (once review exists)."
    )
    step_layout = forms.ChoiceField(
        label="Step layout",
        required=False,
        choices=[
            ("", "pairs: not a steps project"),
            ("stepwise", "stepwise supervision (prompt, completions, labels)"),
            ("first_error", "first error (ProcessBench's layout)"),
        ],
        help_text="For a steps project only.",
    )

    def __init__(self, *args: Any, splits: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        split_field = self.fields["split"]
        if splits is not None and isinstance(split_field, forms.ChoiceField):
            split_field.choices = [("", "all splits")] + [(s, s) for s in splits]
        else:  # the API: any split name, checked against the data when exporting
            self.fields["split"] = forms.CharField(required=False, max_length=20)

    def clean_min_strength(self) -> float | None:
        value = self.cleaned_data.get("min_strength")
        if value is not None and not math.isfinite(value):
            raise forms.ValidationError("must be a finite number")
        return value

    def spec(self) -> ExportSpec:
        data = self.cleaned_data
        return ExportSpec(
            style=data["style"],
            with_margin=bool(data.get("with_margin")),
            drop_flagged=bool(data.get("drop_flagged")),
            min_strength=data.get("min_strength"),
            reviewed_only=bool(data.get("reviewed_only")),
            split=data.get("split") or "",
            layout=data.get("step_layout") or "",
        )
