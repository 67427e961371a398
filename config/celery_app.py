"""The Celery app: settings from Django (CELERY_*), tasks from each app's tasks.py."""

import logging.config
from typing import Any

from celery import Celery, signals

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def _use_django_logging(**_: Any) -> None:
    """Log from workers in the same JSON shape, with the same filters, as the web."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
