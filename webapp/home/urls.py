from django.urls import path

from webapp.home import views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("<int:project_id>/", views.project_detail, name="detail"),
    path("<int:project_id>/pairs/<int:pair_id>/", views.pair_detail, name="pair"),
    path("<int:project_id>/settings/", views.project_settings, name="settings"),
    path("<int:project_id>/members/", views.project_members, name="members"),
]
