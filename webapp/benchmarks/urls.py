from django.urls import path

from webapp.benchmarks import views

app_name = "benchmarks"
urlpatterns = [
    path("benchmarks/", views.benchmark_list, name="list"),
    path("benchmarks/<int:benchmark_id>/", views.leaderboard_page, name="leaderboard"),
    path("benchmarks/<int:benchmark_id>/evaluate/", views.evaluate_start, name="evaluate"),
]
