from django.urls import path

from webapp.checks import views

app_name = "checks"
urlpatterns = [
    path("projects/<int:project_id>/checks/", views.checks_page, name="page"),
    path("projects/<int:project_id>/checks/run/", views.checks_start, name="start"),
    path("projects/<int:project_id>/checks/settings/", views.checks_settings, name="settings"),
]
