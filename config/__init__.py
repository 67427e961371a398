from config.env import load_environment

# Before the Celery app reads Django's settings: `.env` first, then the default module.
load_environment()

from config.celery_app import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
