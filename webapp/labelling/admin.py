from django.contrib import admin

from webapp.labelling.models import Vote


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["id", "pair", "annotator", "choice", "strength", "created_at"]
    raw_id_fields = ["pair", "annotator"]
    show_full_result_count = False
