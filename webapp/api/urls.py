from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView

from webapp.api import errors
from webapp.api.auth import TokenObtain
from webapp.api.views import (
    benchmarks,
    docs,
    exports,
    flags,
    imports,
    items,
    jobs,
    judges,
    labelling,
    learning,
    pairs,
    projects,
    review,
    scoring,
    steps,
    training,
)


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
    path("docs/", docs.docs, name="docs"),
    path("auth/token/", TokenObtain.as_view(), name="token"),
    path("projects/", projects.project_list, name="projects"),
    path("projects/<id:project_id>/", projects.project_detail, name="project"),
    path("projects/<id:project_id>/pairs/", pairs.pair_list, name="pairs"),
    path("projects/<id:project_id>/pairs/<id:pair_id>/", pairs.pair_detail, name="pair"),
    path("projects/<id:project_id>/items/", items.item_list, name="items"),
    path("projects/<id:project_id>/items/<id:item_id>/", items.item_detail, name="item"),
    path("projects/<id:project_id>/items/next/", items.item_next, name="item-next"),
    path("projects/<id:project_id>/answers/", items.answer_create, name="answers"),
    path("projects/<id:project_id>/steps/next/", steps.step_next, name="step-next"),
    path("projects/<id:project_id>/step-answers/", steps.step_answer_create, name="step-answers"),
    path("projects/<id:project_id>/imports/", imports.import_create, name="import-create"),
    path("imports/<id:batch_id>/", imports.import_detail, name="import"),
    path("projects/<id:project_id>/assignments/next/", labelling.assignment_next, name="next"),
    path("projects/<id:project_id>/assignments/skip/", labelling.assignment_skip, name="skip"),
    path("projects/<id:project_id>/votes/", labelling.vote_create, name="votes"),
    path("projects/<id:project_id>/jobs/", jobs.job_list, name="jobs"),
    path("jobs/<id:job_id>/", jobs.job_detail, name="job"),
    path("jobs/<id:job_id>/cancel/", jobs.job_cancel_view, name="job-cancel"),
    path("projects/<id:project_id>/exports/", exports.export_list, name="exports"),
    path("exports/<id:snapshot_id>/", exports.export_detail, name="export"),
    path("exports/<id:snapshot_id>/files/<str:name>", exports.export_download, name="download"),
    path(
        "projects/<id:project_id>/review/decisions/",
        review.review_decisions,
        name="review-decisions",
    ),
    path(
        "projects/<id:project_id>/pairs/<id:pair_id>/decisions/",
        review.pair_review_decisions,
        name="pair-review-decisions",
    ),
    path("projects/<id:project_id>/review/bulk/", review.review_bulk, name="review-bulk"),
    path(
        "projects/<id:project_id>/training-runs/",
        training.training_run_list,
        name="training-runs",
    ),
    path("training-runs/<id:run_id>/", training.training_run_detail, name="training-run"),
    path("projects/<id:project_id>/scoring-runs/", scoring.scoring_run_list, name="scoring-runs"),
    path("scoring-runs/<id:run_id>/", scoring.scoring_run_detail, name="scoring-run"),
    path("scoring-runs/<id:run_id>/scores/", scoring.score_list, name="scores"),
    path("projects/<id:project_id>/flags/", flags.flag_list, name="flags"),
    path(
        "projects/<id:project_id>/flags/precision/",
        learning.precision_list,
        name="flag-precision",
    ),
    path("projects/<id:project_id>/noise/", learning.noise_list, name="noise"),
    path("projects/<id:project_id>/judges/", judges.judge_list, name="judges"),
    path("projects/<id:project_id>/judges/report/", judges.judge_report, name="judge-report"),
    path(
        "projects/<id:project_id>/judges/<id:judge_id>/verdicts/",
        judges.verdict_import,
        name="judge-verdicts",
    ),
    path("projects/<id:project_id>/judges/<id:judge_id>/runs/", judges.judge_run, name="judge-run"),
    path(
        "projects/<id:project_id>/judges/<id:judge_id>/fill-in/",
        judges.judge_fill_in,
        name="judge-fill-in",
    ),
    path("benchmarks/", benchmarks.benchmark_list, name="benchmarks"),
    path(
        "benchmarks/<id:benchmark_id>/leaderboard/",
        benchmarks.benchmark_leaderboard,
        name="leaderboard",
    ),
    path(
        "benchmarks/<id:benchmark_id>/evaluations/",
        benchmarks.evaluation_list,
        name="evaluations",
    ),
    path("evaluations/<id:evaluation_id>/", benchmarks.evaluation_detail, name="evaluation"),
    # Keep this last: any other /api/ address is a JSON 404.
    re_path(r"^.*$", errors.not_found),
]
