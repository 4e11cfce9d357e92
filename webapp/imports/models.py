from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.jobs.models import Job
from webapp.projects.models import Project


class ImportBatch(models.Model):
    """One imported file: what was asked, what came in, and every record that was rejected."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected (strict mode, nothing imported)"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="imports")
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_batch"
    )
    file_name = models.CharField(max_length=500, help_text="The name the file was given as.")
    stored_path = models.CharField(max_length=1000, blank=True)
    fmt = models.CharField(max_length=20, default="auto")
    mapping = models.JSONField(null=True, blank=True)
    strict = models.BooleanField(default=False)
    default_split = models.CharField(max_length=20, default="train")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    records_seen = models.PositiveIntegerField(default=0)
    records_rejected = models.PositiveIntegerField(default=0)
    pairs_created = models.PositiveIntegerField(default=0)
    pairs_existing = models.PositiveIntegerField(default=0)
    votes_created = models.PositiveIntegerField(default=0)
    # Files of several responses per prompt: items, and the answers of their raters (the
    # pairs and votes those derive count in pairs_created and votes_created).
    items_created = models.PositiveIntegerField(default=0)
    answers_created = models.PositiveIntegerField(default=0)
    # The first MAX_STORED_ERRORS rejected records: {"file", "line", "field", "reason"}.
    errors = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, help_text="A whole-file problem, if any.")
    # The rating attributes this file gave its project, [{"name", "low", "high", ...}], when
    # it was the first file of a project with the default ones (webapp/imports/attributes.py).
    attributes_set = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    MAX_STORED_ERRORS = 1000

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.file_name}"

    @property
    def summary(self) -> str:
        if self.project.label_scheme == "steps":  # solutions are items that derive no pairs
            return (
                f"{self.get_status_display()}: {self.items_created} new solutions, "
                f"{self.pairs_existing} already there, {self.answers_created} labels, "
                f"{self.records_rejected} rejected"
            )
        if self.items_created or self.answers_created:
            return (
                f"{self.get_status_display()}: {self.items_created} new items, "
                f"{self.answers_created} answers, {self.pairs_created} derived pairs, "
                f"{self.records_rejected} rejected"
            )
        return (
            f"{self.get_status_display()}: {self.pairs_created} new pairs, "
            f"{self.pairs_existing} already there, {self.records_rejected} rejected"
        )
