from django.urls import path

from webapp.imports import views

app_name = "imports"
urlpatterns = [
    path("projects/<int:project_id>/import/", views.upload, name="upload"),
    path("imports/<int:batch_id>/", views.report, name="report"),
]
