"""Emails to staff about leads: written to the database, sent by Celery, once."""

from django.contrib.auth.models import User

from leads.models import Lead, StaffNotification


def staff_notification_queue(
    *, recipient: User, lead: Lead, kind: str
) -> StaffNotification:
    """Write a notification in the caller's transaction; send it once that commits."""
    raise NotImplementedError
