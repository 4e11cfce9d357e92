from django.urls import path

from webapp.realtime.consumers import JobConsumer
from webapp.training.consumers import TrainingRunConsumer

websocket_urlpatterns = [
    path("ws/jobs/<int:job_id>/", JobConsumer.as_asgi()),
    path("ws/training/<int:run_id>/", TrainingRunConsumer.as_asgi()),
]
