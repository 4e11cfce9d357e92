from django.contrib import admin

from webapp.registry.models import RegisteredModel


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "version", "kind", "path", "created_at")
    raw_id_fields = ("project", "run")
