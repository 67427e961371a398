"""Celery tasks that send webhook deliveries: thin, by id, safe to run twice."""

from typing import Any

from celery import Task, shared_task
from django.utils import timezone

from core.models import DeliveryStatus

# A retry due sooner than this waits in the worker (a countdown); a later one is left
# to the periodic sweep, because on Redis a countdown near the visibility timeout
# runs more than once.
RETRY_IN_WORKER_MAX_SECONDS = 600


@shared_task(bind=True, acks_late=True, max_retries=None)
def webhook_delivery_send_task(self: Task[Any, Any], delivery_id: int) -> None:
    """Send one delivery; after a failed attempt, run again when its backoff ends.

    The attempts are counted on the row (core.outbox, WEBHOOK_MAX_ATTEMPTS), not by
    Celery.
    """
    from leads.webhooks.services import webhook_delivery_send

    delivery = webhook_delivery_send(delivery_id=delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    countdown = (delivery.next_attempt_at - timezone.now()).total_seconds()
    if countdown <= RETRY_IN_WORKER_MAX_SECONDS:
        raise self.retry(countdown=max(countdown, 0.0))


@shared_task
def webhook_delivery_send_due_task() -> None:
    """Hand due and stalled deliveries to workers; beat runs it every minute."""
    from leads.webhooks.services import webhook_delivery_send_due

    webhook_delivery_send_due()
