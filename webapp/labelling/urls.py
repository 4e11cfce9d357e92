from django.urls import path

from webapp.labelling import item_views, step_views, views

app_name = "labelling"
urlpatterns = [
    path("label/", views.annotator_home, name="home"),
    path("projects/<int:project_id>/label/", views.label_page, name="page"),
    path("projects/<int:project_id>/label/next/", views.label_next, name="next"),
    path("projects/<int:project_id>/label/vote/", views.label_vote, name="vote"),
    path("projects/<int:project_id>/label/answer/", item_views.label_answer, name="answer"),
    path("projects/<int:project_id>/label/skip/", views.label_skip, name="skip"),
    path("projects/<int:project_id>/label/undo/", views.label_undo, name="undo"),
    path("projects/<int:project_id>/label/progress/", views.label_progress, name="progress"),
    path("projects/<int:project_id>/label/steps/", step_views.steps_page, name="steps"),
    path(
        "projects/<int:project_id>/label/steps/answer/",
        step_views.steps_answer,
        name="steps_answer",
    ),
    path("projects/<int:project_id>/label/steps/skip/", step_views.steps_skip, name="steps_skip"),
    path("projects/<int:project_id>/gold/", views.gold_page, name="gold"),
    path("projects/<int:project_id>/agreement/", views.agreement_page, name="agreement"),
]
