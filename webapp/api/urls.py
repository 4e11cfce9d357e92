from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView

from webapp.api import errors, views
from webapp.api.auth import TokenObtain


class IdConverter:
    """Database ids: at most 18 digits, so a huge number is a 404, not a database error."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.docs, name="docs"),
    path("auth/token/", TokenObtain.as_view(), name="token"),
    path("projects/", views.project_list, name="projects"),
    path("projects/<id:project_id>/", views.project_detail, name="project"),
    path("projects/<id:project_id>/pairs/", views.pair_list, name="pairs"),
    path("projects/<id:project_id>/pairs/<id:pair_id>/", views.pair_detail, name="pair"),
    path("projects/<id:project_id>/imports/", views.import_create, name="import-create"),
    path("imports/<id:batch_id>/", views.import_detail, name="import"),
    path("projects/<id:project_id>/assignments/next/", views.assignment_next, name="next"),
    path("projects/<id:project_id>/assignments/skip/", views.assignment_skip, name="skip"),
    path("projects/<id:project_id>/votes/", views.vote_create, name="votes"),
    path("projects/<id:project_id>/jobs/", views.job_list, name="jobs"),
    path("jobs/<id:job_id>/", views.job_detail, name="job"),
    path("jobs/<id:job_id>/cancel/", views.job_cancel_view, name="job-cancel"),
    path("projects/<id:project_id>/exports/", views.export_list, name="exports"),
    path("exports/<id:snapshot_id>/", views.export_detail, name="export"),
    path("exports/<id:snapshot_id>/files/<str:name>", views.export_download, name="download"),
    # --- review decisions ---
    path(
        "projects/<id:project_id>/review/decisions/",
        views.review_decisions,
        name="review-decisions",
    ),
    path(
        "projects/<id:project_id>/pairs/<id:pair_id>/decisions/",
        views.pair_review_decisions,
        name="pair-review-decisions",
    ),
    path("projects/<id:project_id>/review/bulk/", views.review_bulk, name="review-bulk"),
    # --- end of review decisions ---
]

# --- training runs ------------------------------------------------------------------------------
urlpatterns += [
    path(
        "projects/<id:project_id>/training-runs/",
        views.training_run_list,
        name="training-runs",
    ),
    path("training-runs/<id:run_id>/", views.training_run_detail, name="training-run"),
]
# --- scores, flags and scoring runs ---------------------------------------------------------
urlpatterns += [
    path("projects/<id:project_id>/scoring-runs/", views.scoring_run_list, name="scoring-runs"),
    path("scoring-runs/<id:run_id>/", views.scoring_run_detail, name="scoring-run"),
    path("scoring-runs/<id:run_id>/scores/", views.score_list, name="scores"),
    path("projects/<id:project_id>/flags/", views.flag_list, name="flags"),
]

# Keep this last (sections above it): any other /api/ address is a JSON 404.
urlpatterns.append(re_path(r"^.*$", errors.not_found))
