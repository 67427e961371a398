"""Zero-setup development (`make run`): SQLite, filesystem broker, console email."""

import os

# Defaults only: anything set in the environment still wins.
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "local-development-only-not-secret")
os.environ.setdefault("EMAIL_URL", "consolemail://")
os.environ.setdefault("LOG_FORMAT", "text")
os.environ.setdefault("ACCESS_LOG", "false")

from config.settings.base import *  # noqa: F403

DEMO_DATA_ALLOWED = True
