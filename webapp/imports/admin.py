from django.contrib import admin

from webapp.imports.models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "file_name", "status", "pairs_created", "records_rejected"]
    readonly_fields = ["errors"]
