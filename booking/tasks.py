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
def calendar_sync_send_task(self: Task[Any, Any], sync_id: int) -> None:
    """Make one sync row's CalDAV calendar match its booking; a sent, claimed or
    deleted row does nothing."""
    from booking.calendar_sync import calendar_sync_send

    calendar_sync_send(sync_id=sync_id)


@shared_task
def calendar_sync_send_due_task() -> None:
    """Enqueue the calendar syncs that are due; beat runs it each minute."""
    from booking.calendar_sync import calendar_sync_send_due

    count = calendar_sync_send_due()
    if count:
        logger.info("calendar syncs due and enqueued: %s", count)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=TASK_RETRY_FOR,
    retry_backoff=True,
    max_retries=5,
)
def calendar_busy_import_task(self: Task[Any, Any], calendar_id: int) -> None:
    """Read one CalDAV calendar's busy time; a failure is kept on the calendar and
    the next run tries again."""
    from booking.calendar_sync import calendar_busy_import

    calendar_busy_import(calendar_id=calendar_id)


@shared_task
def calendar_busy_import_due_task() -> None:
    """Enqueue a busy-time import per CalDAV calendar; beat runs it every five
    minutes, and an import running twice replaces the same rows."""
    from booking.calendar_sync import calendar_busy_import_due

    count = calendar_busy_import_due()
    if count:
        logger.info("calendar busy-time imports enqueued: %s", count)
