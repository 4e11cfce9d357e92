from django.contrib import admin

from webapp.training.models import RegisteredModel, TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "kind", "name", "complete", "created_at")
    list_filter = ("kind", "complete")
    raw_id_fields = ("project", "job", "scoring_run", "created_by")


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "version", "kind", "path", "created_at")
    raw_id_fields = ("project", "run")
