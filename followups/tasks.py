"""Celery tasks of the follow-ups: thin, by id, safe to run twice."""

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
def followup_message_send_task(self: Task[Any, Any], message_id: int) -> None:
    """Send one follow-up by id; a sent, claimed or deleted row sends nothing."""
    from followups.services import followup_message_send

    followup_message_send(message_id=message_id)


@shared_task
def followup_send_due_task() -> None:
    """Enqueue the follow-ups that are due, in batches; beat runs it each minute."""
    from followups.services import followup_send_due

    count = followup_send_due()
    if count:
        logger.info("follow-ups due and enqueued: %s", count)


@shared_task
def followup_schedule_due_task() -> None:
    """Make the timed follow-ups that are due; beat runs it each minute."""
    from followups.services import followup_schedule_due

    made = followup_schedule_due()
    if made:
        logger.info("timed follow-ups made: %s", made)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=TASK_RETRY_FOR,
    retry_backoff=True,
    max_retries=5,
)
def followup_messages_send_task(self: Task[Any, Any], message_ids: list[int]) -> None:
    """Send a batch of follow-ups by id over one mail connection; what is sent,
    claimed or deleted already is passed over."""
    from followups.services import followup_messages_send

    followup_messages_send(message_ids=message_ids)
