"""WebSocket routes, beside the HTTP ones in webapp/urls.py."""

from django.urls import path

from webapp.jobs.consumers import JobConsumer
from webapp.training.consumers import TrainingRunConsumer

websocket_urlpatterns = [
    path("ws/jobs/<int:job_id>/", JobConsumer.as_asgi()),
    path("ws/training/<int:run_id>/", TrainingRunConsumer.as_asgi()),
]
