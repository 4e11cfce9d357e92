from django.urls import path

from webapp.scoring import views

app_name = "scoring"
urlpatterns = [
    path("projects/<int:project_id>/score/", views.run_start, name="start"),
    path("scoring/runs/<int:run_id>/", views.run_detail, name="run"),
]
