from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    label = "sync"
    verbose_name = "Synchronisation"

    def ready(self):
        from . import serializers  # noqa: F401 - registers the OpenAPI token scheme
