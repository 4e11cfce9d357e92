"""PrefLab's Django project. The Celery app is loaded with it so tasks find their app."""

from webapp.celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
