from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from webapp.review.models import ReviewDecision, ReviewSettings


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(admin.ModelAdmin):
    list_display = ["pair", "action", "label_before", "label_after", "reviewer", "created_at"]
    list_filter = ["action"]
    raw_id_fields = ["pair", "reviewer"]

    # The log is append-only (the database refuses updates): the admin only shows it.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ReviewSettings)
class ReviewSettingsAdmin(admin.ModelAdmin):
    list_display = ["project", "ambiguity_votes", "ambiguity_pairs", "queue_built_at"]
    exclude = ["charts"]
