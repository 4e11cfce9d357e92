from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from webapp.ops import views as ops_views

urlpatterns = [
    # First: the labelling requests are the busiest by far, and Django tries the patterns in
    # order (each include it passes costs a little); none of them overlaps another app's.
    path("", include("webapp.labelling.urls")),
    path("", RedirectView.as_view(pattern_name="projects:list"), name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # browsers ask for /favicon.ico on pages that do not name their icon (the admin's)
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg")), name="favicon"),
    path("projects/", include("webapp.home.urls")),
    path("jobs/", include("webapp.jobs.urls")),
    path("health/", ops_views.health, name="health"),
    path("", include("webapp.imports.urls")),
    path("", include("webapp.scoring.urls")),
    path("", include("webapp.exports.urls")),
    path("", include("webapp.checks.urls")),
    path("", include("webapp.judges.urls")),
    path("", include("webapp.benchmarks.urls")),
    path("", include("webapp.review.urls")),
    path("", include("webapp.training.urls")),
    path("api/", include("webapp.api.urls")),
]
