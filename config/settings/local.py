"""Zero-setup development (`make run`): SQLite, filesystem broker, console email."""

import os

import environ

# Defaults only: anything set in the environment or in .env still wins.
os.environ.setdefault("DEBUG", "true")
if environ.Env().bool("DEBUG"):
    # With DEBUG off (DEBUG=false make run) a real key is required, as in production.
    os.environ.setdefault("SECRET_KEY", "local-development-only-not-secret")
    # base64 of the 32 bytes "local-development-only-notsecret"
    os.environ.setdefault(
        "HEALTH_DATA_KEYS", "bG9jYWwtZGV2ZWxvcG1lbnQtb25seS1ub3RzZWNyZXQ="
    )
    # base64 of the 32 bytes "local-development-only-secretkey"
    os.environ.setdefault(
        "SECRET_DATA_KEYS", "bG9jYWwtZGV2ZWxvcG1lbnQtb25seS1zZWNyZXRrZXk="
    )
os.environ.setdefault("EMAIL_URL", "consolemail://")
os.environ.setdefault("LOG_FORMAT", "text")
os.environ.setdefault("ACCESS_LOG", "false")

from config.settings.base import *  # noqa: F403

DEMO_DATA_ALLOWED = True
