from django.urls import path

from webapp.review import step_views, views

app_name = "review"
urlpatterns = [
    path("projects/<int:project_id>/review/", views.queue, name="queue"),
    path("projects/<int:project_id>/review/rebuild/", views.queue_rebuild, name="rebuild"),
    path("projects/<int:project_id>/review/bulk/", views.bulk, name="bulk"),
    path("projects/<int:project_id>/review/pairs/<int:pair_id>/", views.pair, name="pair"),
    path("projects/<int:project_id>/pairs/<int:pair_id>/history/", views.history, name="history"),
    path("projects/<int:project_id>/review/dashboard/", views.dashboard, name="dashboard"),
    path(
        "projects/<int:project_id>/review/dashboard/<slug:name>/",
        views.dashboard_chart,
        name="chart",
    ),
    path("projects/<int:project_id>/review/settings/", views.review_settings, name="settings"),
    path("projects/<int:project_id>/review/steps/", step_views.step_queue, name="steps"),
    path(
        "projects/<int:project_id>/review/steps/<int:item_id>/",
        step_views.step_item,
        name="step_item",
    ),
    path(
        "projects/<int:project_id>/review/steps/<int:item_id>/decide/",
        step_views.step_decide,
        name="step_decide",
    ),
]
