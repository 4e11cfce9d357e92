from django.apps import AppConfig


class JudgesConfig(AppConfig):
    name = "webapp.judges"
    label = "judges"
