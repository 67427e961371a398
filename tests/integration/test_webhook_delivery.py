"""Webhooks through the real thing: commit, Redis, a worker process, an HTTP server."""

import json
import time

import pytest
from django.db import transaction

from core.models import DeliveryStatus
from leads.models import WebhookDelivery, WebhookEndpoint
from leads.webhooks.services import webhook_event_record
from leads.webhooks.signing import webhook_signature
from tests.support.factories import LeadFactory
from tests.support.waiting import wait_for_status
from tests.support.webhook_receiver import WebhookReceiver, running_webhook_receiver
from tests.support.worker import WORKER_WEBHOOK_RETRY_BASE_SECONDS, WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The worker (tests/support/worker.py) retries 1 s and 2 s apart, not 30 s and 60 s.
RETRY_BASE_SECONDS = WORKER_WEBHOOK_RETRY_BASE_SECONDS

SECRET = "whsec-integration-0123456789"


def test_a_receiver_that_fails_twice_then_succeeds_gets_the_event_once_signed(
    celery_worker: WorkerProcess,
) -> None:
    receiver: WebhookReceiver
    with running_webhook_receiver(secret=SECRET, statuses=(500, 500, 200)) as receiver:
        # Given an integrator's endpoint that answers 500, 500, then 200
        WebhookEndpoint.objects.create(
            name="CRM", url=receiver.url, secret=SECRET, event_types=["lead.created"]
        )

        # When a new lead's event is recorded and its transaction commits
        lead = LeadFactory.create()
        with transaction.atomic():
            webhook_event_record(event_type="lead.created", lead=lead)

        # Then the worker retries with backoff until the receiver takes it
        delivery = WebhookDelivery.objects.get()
        wait_for_status(delivery, DeliveryStatus.SENT, DeliveryStatus.FAILED)
        # and sends nothing more once it was taken.
        time.sleep(4 * RETRY_BASE_SECONDS + 1)
        requests = receiver.received()

    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 3
    assert delivery.last_status_code == 200
    assert delivery.sent_at is not None
    assert [request.status for request in requests] == [500, 500, 200]
    assert receiver.accepted == [str(delivery.code)]
    for request in requests:
        assert request.headers["X-Clinic-Event-Id"] == str(delivery.code)
        assert request.headers["X-Clinic-Event-Type"] == "lead.created"
        assert request.signature_valid
        timestamp = int(
            request.headers["X-Clinic-Signature"].split(",")[0].removeprefix("t=")
        )
        assert request.headers["X-Clinic-Signature"] == webhook_signature(
            SECRET, timestamp, request.body
        )
        assert json.loads(request.body)["id"] == str(delivery.code)
        assert json.loads(request.body)["data"]["lead"]["code"] == str(lead.code)
    # Each wait is the backoff: the base, then twice the base.
    first, second, third = (request.received_at for request in requests)
    assert second - first >= RETRY_BASE_SECONDS * 0.9
    assert third - second >= 2 * RETRY_BASE_SECONDS * 0.9
