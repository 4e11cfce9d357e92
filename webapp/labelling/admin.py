from django.contrib import admin

from webapp.labelling.models import AgreementReport, Assignment, GoldAnswer, HumanLabel, Vote


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["id", "pair", "annotator", "choice", "strength", "shown_order", "created_at"]
    raw_id_fields = ["pair", "annotator", "assignment"]
    show_full_result_count = False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "pair", "annotator", "state", "round", "served_at", "expires_at"]
    list_filter = ["state"]
    raw_id_fields = ["pair", "annotator", "project"]
    show_full_result_count = False


@admin.register(GoldAnswer)
class GoldAnswerAdmin(admin.ModelAdmin):
    list_display = ["pair", "project", "choice", "created_at"]
    raw_id_fields = ["pair", "created_by"]


@admin.register(HumanLabel)
class HumanLabelAdmin(admin.ModelAdmin):
    list_display = ["pair", "label", "confidence", "source", "n_votes", "computed_at"]
    list_filter = ["source", "label"]
    raw_id_fields = ["pair"]
    show_full_result_count = False


@admin.register(AgreementReport)
class AgreementReportAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "created_at", "n_votes", "alpha"]
