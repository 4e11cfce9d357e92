from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView
from rest_framework.authtoken.views import obtain_auth_token

from webapp.api import errors, views


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
    path("auth/token/", obtain_auth_token, name="token"),
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
    re_path(r"^.*$", errors.not_found),
]
