"""Webhook use cases: record an event for every subscribed endpoint, send a delivery.

Delivery is at-least-once: a worker that stops after the receiver answered but before
the row says "sent" leaves the row claimed until its lease ends, and then the same
event (same id) is sent again. Receivers dedupe on the event id.
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
from django.db.models import Case, F, PositiveSmallIntegerField, Value, When
from django.utils import timezone

from core.queueing import enqueue_on_commit
from leads.models import (
    DeliveryStatus,
    Lead,
    LeadTreatment,
    WebhookDelivery,
    WebhookEndpoint,
)
from leads.webhooks.events import EVENT_TYPES
from leads.webhooks.signing import webhook_signature
from leads.webhooks.tasks import webhook_delivery_send_task

logger = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 10
USER_AGENT = "ClinicLeads-Webhooks/1"
# Deliveries the periodic sweep hands to workers per run; it runs every minute.
SEND_DUE_BATCH = 500
_ERROR_LENGTH = WebhookDelivery._meta.get_field("last_error").max_length or 500


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
        for endpoint in WebhookEndpoint.objects.filter(is_active=True)
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


def webhook_delivery_backoff(*, attempts: int) -> timedelta:
    """How long a delivery waits after its `attempts`-th failed attempt: the base
    (WEBHOOK_RETRY_BASE_SECONDS), then twice as long after each further failure."""
    base: int = settings.WEBHOOK_RETRY_BASE_SECONDS
    return timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def webhook_delivery_send(*, delivery_id: int) -> WebhookDelivery | None:
    """Claim a due delivery, POST it once, and record the answer.

    2xx: sent. Anything else: pending again after its backoff, or failed once
    WEBHOOK_MAX_ATTEMPTS attempts were made. An endpoint deactivated since the event:
    failed, nothing sent. Returns the delivery if this call changed it; None when
    there was nothing to do (gone, not due, being sent elsewhere, sent, failed), so
    running it twice for one due attempt sends once.
    """
    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
        next_attempt_at__lte=now,
    )
    if due.filter(endpoint__is_active=False).update(
        status=DeliveryStatus.FAILED,
        last_error="The endpoint was deactivated before the event was sent.",
    ):
        return WebhookDelivery.objects.get(pk=delivery_id)
    # A "sending" row that is due again was claimed by a worker that stopped: its
    # lease ran out. Counting the attempt at the claim ends a poison message too.
    claimed = due.filter(attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS).update(
        status=DeliveryStatus.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + _send_lease(),
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = _body_bytes(delivery)
    status_code, error = _post(delivery, body)
    if status_code is not None and 200 <= status_code < 300:
        _attempt_succeeded(delivery, status_code)
    else:
        _attempt_failed(delivery, status_code, error)
    return delivery


def webhook_delivery_send_due(*, now: datetime | None = None) -> int:
    """Hand every due pending delivery (never enqueued, broker down, retry due) and
    every claimed one whose worker stopped to a worker; returns how many.

    Safe to run at any time: a delivery is claimed before it is sent.
    """
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
        next_attempt_at__lte=now,
    )
    # Out of attempts but not failed: a worker stopped during the last one, or
    # WEBHOOK_MAX_ATTEMPTS was lowered since.
    out_of_attempts = due.filter(attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS)
    out_of_attempts.filter(status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.FAILED,
        last_error="The worker stopped during the last attempt.",
    )
    out_of_attempts.update(status=DeliveryStatus.FAILED)
    ids = list(
        due.order_by("next_attempt_at").values_list("pk", flat=True)[:SEND_DUE_BATCH]
    )
    for pk in ids:
        enqueue_on_commit(webhook_delivery_send_task, pk)
    return len(ids)


def webhook_delivery_retry(*, delivery: WebhookDelivery) -> bool:
    """Make a pending or failed delivery due now and send it; a failed one gets a
    fresh series of attempts. A sent delivery or one being sent is left alone:
    returns False."""
    changed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
    ).update(
        status=DeliveryStatus.PENDING,
        next_attempt_at=timezone.now(),
        attempts=Case(
            When(status=DeliveryStatus.FAILED, then=Value(0)),
            default=F("attempts"),
            output_field=PositiveSmallIntegerField(),
        ),
    )
    if changed:
        enqueue_on_commit(webhook_delivery_send_task, delivery.pk)
    return bool(changed)


def _send_lease() -> timedelta:
    # Longer than a task may run, so a live attempt is never taken over.
    limit: int = settings.CELERY_TASK_TIME_LIMIT
    return timedelta(seconds=limit + 30)


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


def _post(delivery: WebhookDelivery, body: bytes) -> tuple[int | None, str]:
    """POST the body; the answer's status code (None without one) and an error."""
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310  (the scheme is limited by _opener)
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
    try:
        with _opener().open(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            status: int = response.status
            return status, ""
    except urllib.error.HTTPError as answer:
        answer.close()
        return answer.code, f"HTTP {answer.code} {answer.reason}"
    except urllib.error.URLError as failure:
        return None, f"{type(failure).__name__}: {failure.reason}"
    except (OSError, http.client.HTTPException, ValueError) as failure:
        return None, f"{type(failure).__name__}: {failure}"


def _attempt_succeeded(delivery: WebhookDelivery, status_code: int) -> None:
    delivery.status = DeliveryStatus.SENT
    delivery.delivered_at = timezone.now()
    delivery.last_status_code = status_code
    delivery.last_error = ""
    _attempt_save(delivery)
    logger.info(
        "webhook delivered",
        extra={"code": str(delivery.code), "status_code": status_code},
    )


def _attempt_failed(
    delivery: WebhookDelivery, status_code: int | None, error: str
) -> None:
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = timezone.now() + webhook_delivery_backoff(
            attempts=delivery.attempts
        )
    delivery.last_status_code = status_code
    delivery.last_error = error[:_ERROR_LENGTH]
    _attempt_save(delivery)
    logger.warning(
        "webhook attempt failed",
        extra={"code": str(delivery.code), "status_code": status_code},
    )


def _attempt_save(delivery: WebhookDelivery) -> None:
    """Write an attempt's result unless the claim was lost (the lease ran out and
    another worker claimed the row): that worker's result is the newer one."""
    WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts
    ).update(
        status=delivery.status,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
    )
