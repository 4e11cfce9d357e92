from django.urls import path

from webapp.pairs import views as pair_views
from webapp.projects import views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("<int:project_id>/", views.project_detail, name="detail"),
    path("<int:project_id>/pairs/<int:pair_id>/", pair_views.pair_detail, name="pair"),
    path("<int:project_id>/settings/", views.project_settings, name="settings"),
    path("<int:project_id>/members/", views.project_members, name="members"),
]
