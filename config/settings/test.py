"""The test suite: this machine's PostgreSQL and Redis unless the environment says."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")
# base64 of the 32 bytes "test-suite-only-key-not-a-secret"
os.environ.setdefault(
    "HEALTH_DATA_KEYS", "dGVzdC1zdWl0ZS1vbmx5LWtleS1ub3QtYS1zZWNyZXQ="
)
# base64 of the 32 bytes "test-suite-only-secret-data-key!"
os.environ.setdefault(
    "SECRET_DATA_KEYS", "dGVzdC1zdWl0ZS1vbmx5LXNlY3JldC1kYXRhLWtleSE="
)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("EMAIL_URL", "smtp://127.0.0.1:1025")
os.environ.setdefault("LOG_FORMAT", "json")
os.environ.setdefault("EMAIL_WEBHOOK_SECRET", "provider:test-webhook-secret")
os.environ.setdefault("MAILGUN_WEBHOOK_SIGNING_KEY", "test-mailgun-signing-key")

from config.settings.base import *  # noqa: F403
from config.settings.base import env

# Not through os.environ: Celery lets a CELERY_BROKER_URL variable override its config,
# and tests point the app at other brokers.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/14")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "queue_order_strategy": "priority",
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Unit tests never reach a real mail server; the integration tests' worker opts back
# in and sends to their SMTP server process.
if os.environ.get("TEST_EMAIL_OVER_SMTP") != "true":  # set by tests/support/worker.py
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEMO_DATA_ALLOWED = True
# tests/staff/test_sign_in.py turns the second factor on; elsewhere a forced
# login stands for a full sign-in.
STAFF_SECOND_FACTOR = False
