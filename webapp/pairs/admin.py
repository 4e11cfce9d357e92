from django.contrib import admin

from webapp.pairs.models import Pair


@admin.register(Pair)
class PairAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "imported_label", "split", "external_id", "source_file"]
    list_filter = ["project", "split", "imported_label"]
    raw_id_fields = ["prompt", "response_a", "response_b", "import_batch"]
    show_full_result_count = False
