"""Webhook use cases: record an event for every subscribed endpoint, send a delivery.

Deliveries are outbox rows (core.outbox): at least once, never concurrently. A
worker that stops after the receiver answered but before the row says "sent" leaves
the row claimed until its lease ends, and then the same event (same id) is sent
again. Receivers dedupe on the event id.
"""

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.config_cache import config_cached
from core.outbox import (
    RetryPolicy,
    Unsendable,
    outbox_due,
    outbox_retry_now,
    outbox_send,
)
from core.queueing import enqueue_on_commit
from leads.models import Lead, LeadTreatment, WebhookDelivery, WebhookEndpoint
from leads.webhooks.events import EVENT_TYPES
from leads.webhooks.signing import webhook_signature
from leads.webhooks.tasks import webhook_delivery_send_task

logger = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 10
USER_AGENT = "ClinicLeads-Webhooks/1"
# However long the configured base, no wait between attempts is longer than this
# (or than the base itself).
RETRY_MAX_DELAY = timedelta(hours=1)
# No answer, an answer that is not 2xx, or a broken one: the next attempt may work.
TRANSIENT = (OSError, http.client.HTTPException)


def webhook_event_record(
    *, event_type: str, lead: Lead, data: dict[str, Any] | None = None
) -> None:
    """Record `event_type` for `lead` for each subscribed endpoint (in the caller's
    transaction) and send the deliveries once it commits.

    Call it after the change, so the lead is as the event leaves it. `data` (JSON
    values) is added beside the lead: lead.status_changed takes `{"from": <old
    status>, "to": <new status>}`. The stored body never holds health data. An
    unknown event type is a programming error: ValueError, nothing written.
    """
    try:
        event = EVENT_TYPES[event_type]
    except KeyError:
        raise ValueError(f"unknown webhook event type {event_type!r}") from None
    # Filtered here rather than with a JSON `contains` lookup, which SQLite (the
    # zero-setup stack) lacks; endpoints are few.
    endpoints = [
        endpoint
        for endpoint in config_cached(
            "active webhook endpoints",
            lambda: list(WebhookEndpoint.objects.filter(is_active=True)),
        )
        if event_type in endpoint.event_types
    ]
    if not endpoints:
        return
    event_data = event.build(lead, data or {})
    now = timezone.now()
    deliveries = []
    for endpoint in endpoints:
        code = uuid.uuid4()
        body = {
            "id": str(code),
            "type": event_type,
            "created_at": now.isoformat(),
            "data": event_data,
        }
        deliveries.append(
            WebhookDelivery(
                code=code,
                endpoint=endpoint,
                event_type=event_type,
                lead=lead,
                body=body,
                created_at=now,
                next_attempt_at=now,
            )
        )
    WebhookDelivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        enqueue_on_commit(webhook_delivery_send_task, delivery.pk)


def webhook_retry_policy() -> RetryPolicy:
    """The attempts and waits of every delivery, from the settings at this moment:
    WEBHOOK_MAX_ATTEMPTS attempts, waiting WEBHOOK_RETRY_BASE_SECONDS after the first
    failure and twice as long after each further one, up to RETRY_MAX_DELAY."""
    base: int = settings.WEBHOOK_RETRY_BASE_SECONDS
    time_limit: int = settings.CELERY_TASK_TIME_LIMIT
    return RetryPolicy(
        max_attempts=settings.WEBHOOK_MAX_ATTEMPTS,
        first_delay=timedelta(seconds=base),
        max_delay=RETRY_MAX_DELAY,
        # Longer than a task may run, so a live attempt is never taken over.
        lease=timedelta(seconds=time_limit + 30),
    )


def webhook_delivery_send(*, delivery_id: int) -> WebhookDelivery | None:
    """Claim a due delivery, POST it once, and record the answer.

    2xx: sent. Anything else: pending again after its backoff, or failed once
    WEBHOOK_MAX_ATTEMPTS attempts were made. An endpoint deactivated since the event:
    failed, nothing sent. Returns the delivery as this call left it; None when there
    was nothing to do (gone, not due, being sent elsewhere, sent, failed), so running
    it twice for one due attempt sends once.
    """
    return outbox_send(
        WebhookDelivery,
        pk=delivery_id,
        send=_post,
        transient=TRANSIENT,
        policy=webhook_retry_policy(),
        related=("endpoint",),
        record=("last_status_code",),
    )


def webhook_delivery_send_due(*, now: datetime | None = None) -> int:
    """Hand every due pending delivery (never enqueued, broker down, retry due) and
    every claimed one whose worker stopped to a worker; returns how many.

    Safe to run at any time: a delivery is claimed before it is sent.
    """
    due = outbox_due(
        WebhookDelivery, policy=webhook_retry_policy(), now=now or timezone.now()
    )
    for pk in due:
        enqueue_on_commit(webhook_delivery_send_task, pk)
    return len(due)


def webhook_delivery_retry(*, delivery: WebhookDelivery) -> bool:
    """Make a pending or failed delivery due now and send it; a failed one gets a
    fresh series of attempts. A sent delivery or one being sent is left alone:
    returns False."""
    retried = outbox_retry_now(WebhookDelivery, pk=delivery.pk)
    if retried:
        enqueue_on_commit(webhook_delivery_send_task, delivery.pk)
    return retried


def _body_bytes(delivery: WebhookDelivery) -> bytes:
    """The body as sent, serialised once: the signature covers these exact bytes."""
    body: dict[str, Any] = delivery.body
    if delivery.endpoint.may_receive_health_data:
        treatments = LeadTreatment.objects.none()
        if delivery.lead_id is not None:  # None: the lead was deleted since.
            treatments = LeadTreatment.objects.filter(lead_id=delivery.lead_id)
        screening = dict(
            treatments.order_by("treatment").values_list("treatment", "outcome")
        )
        body = {**body, "data": {**body["data"], "screening": screening}}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _opener() -> urllib.request.OpenerDirector:
    # HTTP(S) only (no file:, ftp:), and no redirects: urllib would repeat a
    # redirected POST as a GET without the body, and a 2xx from that is not delivery.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _post(delivery: WebhookDelivery) -> None:
    """POST the delivery, signed; the answer's status code goes on the row (None
    without an answer). Raises for anything but a 2xx."""
    if not delivery.endpoint.is_active:
        raise Unsendable("The endpoint was deactivated before the event was sent.")
    delivery.last_status_code = None
    try:
        with _opener().open(_request(delivery), timeout=HTTP_TIMEOUT_SECONDS) as answer:
            delivery.last_status_code = answer.status
    except urllib.error.HTTPError as refused:  # Not 2xx, a redirect included.
        refused.close()
        delivery.last_status_code = refused.code
        raise
    except ValueError as invalid:  # No request can be made of this URL.
        raise Unsendable(f"The endpoint cannot be requested: {invalid}") from invalid
    logger.info(
        "webhook delivered",
        extra={"code": str(delivery.code), "status_code": delivery.last_status_code},
    )


def _request(delivery: WebhookDelivery) -> urllib.request.Request:
    """The signed POST; the signature covers the exact bytes of the body."""
    body = _body_bytes(delivery)
    timestamp = int(time.time())
    return urllib.request.Request(  # noqa: S310  (the scheme is limited by _opener)
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Clinic-Event-Id": str(delivery.code),
            "X-Clinic-Event-Type": delivery.event_type,
            "X-Clinic-Signature": webhook_signature(
                delivery.endpoint.secret, timestamp, body
            ),
        },
    )
