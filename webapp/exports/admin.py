from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from webapp.exports.models import ExportSnapshot


@admin.register(ExportSnapshot)
class ExportSnapshotAdmin(admin.ModelAdmin):
    list_display = ["project", "version", "status", "file_format", "style", "row_count"]
    list_filter = ["status", "file_format"]

    # Snapshots are immutable: the admin shows them and may delete them, never edits.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
