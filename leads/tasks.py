"""Celery tasks of the leads app: thin, by id, safe to run twice."""

# The webhook tasks live with the webhooks; imported here so Celery registers them.
from leads.webhooks import tasks as webhooks_tasks  # noqa: F401
