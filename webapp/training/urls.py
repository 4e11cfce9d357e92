from django.urls import path

from webapp.training import views

app_name = "training"
urlpatterns = [
    path("projects/<int:project_id>/training/", views.training_list, name="list"),
    path("projects/<int:project_id>/training/compare/", views.run_compare, name="compare"),
    path("training/runs/<int:run_id>/", views.run_detail, name="run"),
    path(
        "training/models/<int:model_id>/files/<str:name>",
        views.model_download,
        name="download",
    ),
]
