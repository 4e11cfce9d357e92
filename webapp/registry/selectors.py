from __future__ import annotations

from django.db.models import QuerySet

from webapp.projects.models import Project
from webapp.registry.models import RegisteredModel


def models_for_project(*, project: Project) -> QuerySet[RegisteredModel]:
    return RegisteredModel.objects.filter(project=project).select_related("run")


def registered_model_for_project(
    *, project: Project, model_id: int | None = None, version: int | None = None
) -> RegisteredModel | None:
    """One of the project's models, by id or by version number."""
    models = RegisteredModel.objects.filter(project=project)
    if model_id is not None:
        models = models.filter(pk=model_id)
    if version is not None:
        models = models.filter(version=version)
    return models.first()
