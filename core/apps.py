from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Operations"

    def ready(self) -> None:
        from core import requestid

        requestid.connect_signals()
