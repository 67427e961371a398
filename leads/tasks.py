"""Celery tasks of the leads app: thin, by id, safe to run twice."""

import logging
from typing import Any

from celery import Task, shared_task

from core.outbox import TASK_RETRY_FOR

# The webhook tasks live with the webhooks; imported here so Celery registers them.
from leads.webhooks import tasks as webhooks_tasks  # noqa: F401

logger = logging.getLogger(__name__)


@shared_task
def lead_deadlines_escalate_task() -> None:
    """Escalate overdue leads; beat runs it each minute, and runs may overlap."""
    from leads.services.deadlines import lead_deadlines_escalate

    taken = lead_deadlines_escalate()
    if taken:
        logger.info("escalation steps taken: %s", taken)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=TASK_RETRY_FOR,
    retry_backoff=True,
    max_retries=5,
)
def staff_notification_send_task(self: Task[Any, Any], notification_id: int) -> None:
    """Send one staff email by id; a sent, claimed or deleted row sends nothing."""
    from leads.services.notifications import staff_notification_send

    staff_notification_send(notification_id=notification_id)


@shared_task
def outbox_send_due_task() -> None:
    """Enqueue the staff emails that are due; beat runs it each minute."""
    from leads.services.notifications import staff_notification_send_due

    count = staff_notification_send_due()
    if count:
        logger.info("emails due and enqueued: %s", count)


@shared_task(acks_late=True)
def lead_retention_erase_due_task() -> None:
    """Erase the leads kept past the clinic's retention; beat runs it hourly, a
    batch at a time, and an erased lead is not erased again."""
    from leads.services.privacy import lead_retention_erase_due

    erased = lead_retention_erase_due()
    if erased:
        logger.info("leads erased after the retention period: %s", erased)
