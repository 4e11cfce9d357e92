from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "webapp.flags"
    label = "flags"
