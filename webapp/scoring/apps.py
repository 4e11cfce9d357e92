from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "webapp.scoring"
    label = "scoring"
