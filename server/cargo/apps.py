from django.apps import AppConfig


class CargoConfig(AppConfig):
    name = "server.cargo"
    label = "cargo"
    verbose_name = "Cargo"
