"""Background work. tasks.py holds the Celery tasks; rm/ holds the model code (no Django)."""
