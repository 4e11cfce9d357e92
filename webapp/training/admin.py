from django.contrib import admin

from webapp.training.models import TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "kind", "name", "complete", "created_at")
    list_filter = ("kind", "complete")
    raw_id_fields = ("project", "job", "scoring_run", "created_by")
