"""Export snapshots: one versioned, immutable set of dataset files per export of a project.

A snapshot is written once (``pending`` -> ``running`` -> ``ready`` or ``failed``) and never
changed afterwards: its files are read-only, and each one's SHA-256 is kept here, so anyone can
check that a dataset in hand is the one this snapshot produced.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models

from webapp.jobs.models import Job
from webapp.projects.models import Project


class ExportSnapshot(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Writing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class FileFormat(models.TextChoices):
        JSONL = "jsonl", "JSON Lines"
        JSONL_GZ = "jsonl.gz", "JSON Lines, gzip"
        PARQUET = "parquet", "Parquet"

    class Style(models.TextChoices):
        # TRL's two preference layouts with an explicit prompt.
        STANDARD = "standard", "Standard: prompt, chosen, rejected as text"
        CONVERSATIONAL = "conversational", "Conversational: lists of {role, content} messages"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    version = models.PositiveIntegerField(help_text="1, 2, 3... per project.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file_format = models.CharField(max_length=10, choices=FileFormat.choices)
    style = models.CharField(max_length=20, choices=Style.choices, default=Style.STANDARD)
    with_margin = models.BooleanField(default=False)
    # {"drop_flagged": bool, "min_strength": float | None, "reviewed_only": bool, "split": str}
    filters = models.JSONField(default=dict, blank=True)
    # The scoring run whose mu / sigma / flags were exported; None when the project had none.
    scoring_run_id = models.BigIntegerField(null=True, blank=True)
    directory = models.CharField(max_length=1000, help_text="Where the files are.")
    # [{"name", "split", "rows", "bytes", "sha256"}], README.md included (rows 0).
    files = models.JSONField(default=list, blank=True)
    row_count = models.BigIntegerField(default=0)
    # What the dataset card reports: pairs considered and left out, by split and reason.
    counts = models.JSONField(default=dict, blank=True)
    preflab_version = models.CharField(max_length=40)
    error = models.TextField(blank=True)
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="export_snapshot"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="one_version_per_export")
        ]

    def __str__(self) -> str:
        return f"{self.project} export v{self.version}"

    @property
    def path(self) -> Path:
        return Path(self.directory)

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    def file_entry(self, name: str) -> dict[str, object] | None:
        """The recorded file of that name; downloads serve only these."""
        return next((f for f in self.files if f.get("name") == name), None)
