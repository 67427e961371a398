"""The process environment: a developer's `.env` file is read before anything else.

Every entry point (manage.py, wsgi, the Celery app) calls `load_environment()` before it
picks the settings module, so a value in `.env` is seen everywhere and a variable set in
the real environment always wins over it.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent


def load_environment(*, default_settings: str = "config.settings.local") -> None:
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default_settings)
