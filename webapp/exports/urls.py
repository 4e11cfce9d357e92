from django.urls import path

from webapp.exports import views

app_name = "exports"
urlpatterns = [
    path("projects/<int:project_id>/exports/", views.export_list, name="list"),
    path("exports/<int:snapshot_id>/", views.export_detail, name="detail"),
    path("exports/<int:snapshot_id>/files/<str:name>", views.export_download, name="download"),
]
