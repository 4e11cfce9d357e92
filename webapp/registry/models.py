"""Saved reward models: PREFLAB_HOME/files/models/<project>/v<version>/."""

from __future__ import annotations

from django.db import models

from webapp.projects.models import Project


class ModelKind(models.TextChoices):
    HEAD = "head", "Reward head on the frozen encoder (CPU)"
    FINETUNE = "finetune", "Full fine-tune (GPU worker)"
    STEP_FINETUNE = "step_finetune", "Step model: the encoder fine-tuned with the step head (GPU)"


class RegisteredModel(models.Model):
    """A finished training run's saved model (safetensors and its manifest)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="registered_models")
    # The run that trained it (a later stage: named, not imported).
    run = models.OneToOneField(
        "training.TrainingRun", on_delete=models.CASCADE, related_name="model"
    )
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=ModelKind.choices)
    path = models.CharField(max_length=1000)
    # [{"name", "bytes", "sha256"}] of every file in the folder.
    files = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="one_model_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.project} model v{self.version}"
