from django.urls import path

from webapp.judges import views

app_name = "judges"
urlpatterns = [
    path("projects/<int:project_id>/judges/", views.judges_page, name="page"),
    path("projects/<int:project_id>/judges/add/", views.judge_add, name="add"),
    path("projects/<int:project_id>/judges/measure/", views.judges_measure_start, name="measure"),
    path("projects/<int:project_id>/judges/<int:judge_id>/run/", views.judge_run, name="run"),
    path(
        "projects/<int:project_id>/judges/<int:judge_id>/verdicts/",
        views.judge_verdicts_upload,
        name="verdicts",
    ),
    path(
        "projects/<int:project_id>/judges/<int:judge_id>/fill-in/",
        views.judge_fill_in,
        name="fill_in",
    ),
]
