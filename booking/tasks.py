"""Celery tasks of the booking app: thin, by id, safe to run twice."""

import logging
from typing import Any

from celery import Task, shared_task

from core.outbox import TASK_RETRY_FOR

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=TASK_RETRY_FOR,
    retry_backoff=True,
    max_retries=5,
)
def booking_email_send_task(self: Task[Any, Any], email_id: int) -> None:
    """Send one booking email by id; a sent, claimed or deleted row sends nothing."""
    from booking.emails import booking_email_send

    booking_email_send(email_id=email_id)


@shared_task
def booking_outbox_send_due_task() -> None:
    """Enqueue the booking emails that are due; beat runs it each minute."""
    from booking.emails import booking_email_send_due

    count = booking_email_send_due()
    if count:
        logger.info("booking emails due and enqueued: %s", count)
