from __future__ import annotations

import json
from typing import Any

from django import forms

from webapp.imports.formats import FORMATS
from webapp.imports.models import ImportBatch
from webapp.imports.services import import_upload_start
from webapp.projects.models import Project

ALLOWED_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet", ".jsonl.gz", ".json.gz", ".csv.gz")


class UploadForm(forms.Form):
    """A file of pairs to import, and how to read it (the upload page and the API)."""

    file = forms.FileField()
    fmt = forms.ChoiceField(
        label="Format", choices=[(f, f) for f in FORMATS], initial="auto", required=False
    )
    mapping = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='For the "mapping" format: JSON such as {"prompt": "question", '
        '"chosen": "good", "rejected": "bad"}.',
    )
    split = forms.CharField(initial="train", max_length=20)
    strict = forms.BooleanField(required=False, help_text="Import nothing if any record is bad.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError(
                f"{upload.name}: expected one of {', '.join(ALLOWED_SUFFIXES)}"
            )
        return upload

    def clean_mapping(self) -> dict[str, str] | None:
        raw = self.cleaned_data.get("mapping", "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc}") from exc
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise forms.ValidationError("expected a JSON object of column names")
        return value

    def import_start(self, *, project: Project, created_by: Any) -> ImportBatch:
        """Keep the file of this valid form and queue its import as a job."""
        return import_upload_start(
            project=project,
            upload=self.cleaned_data["file"],
            fmt=self.cleaned_data["fmt"],
            mapping=self.cleaned_data["mapping"],
            strict=self.cleaned_data["strict"],
            default_split=self.cleaned_data["split"],
            created_by=created_by,
        )
