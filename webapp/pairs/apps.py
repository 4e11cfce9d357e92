from django.apps import AppConfig


class PairsConfig(AppConfig):
    name = "webapp.pairs"
    label = "pairs"
