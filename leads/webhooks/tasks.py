"""Celery tasks that send webhook deliveries."""
