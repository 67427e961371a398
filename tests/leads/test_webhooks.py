"""Outgoing webhooks: what is recorded, what is sent, signing, retries, giving up."""

import hashlib
import hmac
import json
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from clinics.models import Location
from core.models import DeliveryStatus
from leads.models import Lead, LeadTreatment, WebhookDelivery, WebhookEndpoint
from leads.webhooks import tasks
from leads.webhooks.services import (
    webhook_delivery_retry,
    webhook_delivery_send,
    webhook_delivery_send_due,
    webhook_event_record,
    webhook_retry_policy,
)
from leads.webhooks.signing import webhook_signature
from tests.support.factories import LeadFactory, UserFactory
from tests.support.webhook_receiver import WebhookReceiver, running_webhook_receiver

pytestmark = pytest.mark.django_db

SECRET = "whsec-test-0123456789abcdef"


@pytest.fixture(autouse=True)
def _retry_policy(settings: SettingsWrapper) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_MAX_ATTEMPTS = 8


@pytest.fixture
def lead(location: Location) -> Lead:
    return LeadFactory.create(
        location=location,
        full_name="Ayşe Yılmaz",
        email="ayse.yilmaz@example.com",
        phone="+905321234567",
    )


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_webhook_receiver(secret=SECRET, statuses=(200,)) as running:
        yield running


@pytest.fixture
def failing_receiver() -> Iterator[WebhookReceiver]:
    with running_webhook_receiver(secret=SECRET, statuses=(500,)) as running:
        yield running


def _endpoint(url: str = "http://127.0.0.1:9/", **fields: Any) -> WebhookEndpoint:
    values: dict[str, Any] = {
        "name": "CRM",
        "url": url,
        "secret": SECRET,
        "event_types": ["lead.created", "lead.status_changed"],
        **fields,
    }
    return WebhookEndpoint.objects.create(**values)


def _delivery_for(
    endpoint: WebhookEndpoint, lead: Lead, event_type: str = "lead.created"
) -> WebhookDelivery:
    webhook_event_record(event_type=event_type, lead=lead)
    return WebhookDelivery.objects.get(endpoint=endpoint)


def _make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def _sent_body(receiver: WebhookReceiver, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(receiver.received()[index].body)
    return body


# Recording


def test_an_event_is_recorded_only_for_active_endpoints_subscribed_to_it(
    lead: Lead,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    crm = _endpoint(name="CRM", event_types=["lead.created"])
    sheet = _endpoint(name="Sheet", event_types=["lead.created", "x.other"])
    _endpoint(name="Status only", event_types=["lead.status_changed"])
    _endpoint(name="Switched off", event_types=["lead.created"], is_active=False)

    with django_capture_on_commit_callbacks() as callbacks:
        webhook_event_record(event_type="lead.created", lead=lead)

    deliveries = WebhookDelivery.objects.all()
    assert {delivery.endpoint for delivery in deliveries} == {crm, sheet}
    assert {delivery.status for delivery in deliveries} == {DeliveryStatus.PENDING}
    # One send each, scheduled for after the commit.
    assert len(callbacks) == 2


def test_the_recorded_body_describes_the_lead_and_holds_no_health_data(
    lead: Lead,
) -> None:
    owner: User = UserFactory.create(username="zeynep")
    lead.owner = owner
    lead.score = 42
    lead.save()
    LeadTreatment.objects.create(lead=lead, treatment="mesotherapy", outcome="review")
    endpoint = _endpoint(may_receive_health_data=True)

    delivery = _delivery_for(endpoint, lead)

    assert delivery.body == {
        "id": str(delivery.code),
        "type": "lead.created",
        "created_at": delivery.created_at.isoformat(),
        "data": {
            "lead": {
                "code": str(lead.code),
                "status": "new",
                "priority": "normal",
                "score": 42,
                "location": "nisantasi",
                "preferred_language": "tr",
                "full_name": "Ayşe Yılmaz",
                "email": "ayse.yilmaz@example.com",
                "phone": "+905321234567",
                "created_at": lead.created_at.isoformat(),
                "owner": "zeynep",
            }
        },
    }
    # Even for an endpoint allowed health data: outcomes are added only at sending.
    assert "mesotherapy" not in json.dumps(delivery.body)
    assert delivery.lead == lead
    assert delivery.event_type == "lead.created"


def test_a_status_change_carries_what_the_caller_adds(lead: Lead) -> None:
    endpoint = _endpoint()

    webhook_event_record(
        event_type="lead.status_changed",
        lead=lead,
        data={"from": "new", "to": "contacted"},
    )

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.body["type"] == "lead.status_changed"
    assert delivery.body["data"]["from"] == "new"
    assert delivery.body["data"]["to"] == "contacted"
    assert delivery.body["data"]["lead"]["code"] == str(lead.code)


def test_an_unknown_event_type_is_refused_and_records_nothing(lead: Lead) -> None:
    _endpoint(event_types=["lead.deleted"])

    with pytest.raises(ValueError, match=r"lead\.deleted"):
        webhook_event_record(event_type="lead.deleted", lead=lead)

    assert not WebhookDelivery.objects.exists()


def test_no_endpoint_subscribed_means_no_delivery_and_nothing_scheduled(
    lead: Lead, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        webhook_event_record(event_type="lead.created", lead=lead)

    assert not WebhookDelivery.objects.exists()
    assert callbacks == []


# Sending


def test_a_delivery_answered_2xx_is_sent_once_signed_with_the_endpoint_secret(
    lead: Lead, receiver: WebhookReceiver
) -> None:
    delivery = _delivery_for(_endpoint(receiver.url), lead)

    result = webhook_delivery_send(delivery_id=delivery.pk)
    again = webhook_delivery_send(delivery_id=delivery.pk)

    [request] = receiver.received()
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("ClinicLeads-Webhooks/")
    assert headers["X-Clinic-Event-Id"] == str(delivery.code)
    assert headers["X-Clinic-Event-Type"] == "lead.created"
    timestamp = int(headers["X-Clinic-Signature"].split(",")[0].removeprefix("t="))
    assert headers["X-Clinic-Signature"] == webhook_signature(
        SECRET, timestamp, request.body
    )
    assert abs(timestamp - timezone.now().timestamp()) < 60
    assert json.loads(request.body) == delivery.body
    assert result is not None
    assert again is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.sent_at is not None


def test_an_endpoint_not_allowed_health_data_never_receives_screening_outcomes(
    lead: Lead, receiver: WebhookReceiver
) -> None:
    LeadTreatment.objects.create(lead=lead, treatment="mesotherapy", outcome="review")
    delivery = _delivery_for(_endpoint(receiver.url), lead)

    webhook_delivery_send(delivery_id=delivery.pk)

    assert "screening" not in _sent_body(receiver)["data"]
    assert b"mesotherapy" not in receiver.received()[0].body


def test_an_endpoint_allowed_health_data_receives_the_screening_outcomes(
    lead: Lead, receiver: WebhookReceiver
) -> None:
    LeadTreatment.objects.create(lead=lead, treatment="mesotherapy", outcome="review")
    LeadTreatment.objects.create(lead=lead, treatment="botox", outcome="eligible")
    endpoint = _endpoint(receiver.url, may_receive_health_data=True)
    delivery = _delivery_for(endpoint, lead)

    webhook_delivery_send(delivery_id=delivery.pk)

    sent = _sent_body(receiver)
    assert sent["data"]["screening"] == {"botox": "eligible", "mesotherapy": "review"}
    assert sent["data"]["lead"] == delivery.body["data"]["lead"]
    # The row keeps the body without them.
    delivery.refresh_from_db()
    assert "screening" not in delivery.body["data"]


def test_a_failed_attempt_waits_a_backoff_that_doubles_after_each_failure(
    lead: Lead, failing_receiver: WebhookReceiver
) -> None:
    delivery = _delivery_for(_endpoint(failing_receiver.url), lead)

    before = timezone.now()
    webhook_delivery_send(delivery_id=delivery.pk)
    after = timezone.now()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert "HTTP Error 500" in delivery.last_error
    assert delivery.sent_at is None
    wait = timedelta(seconds=30)
    assert before + wait <= delivery.next_attempt_at <= after + wait
    # Not due yet: a second task for it sends nothing.
    assert webhook_delivery_send(delivery_id=delivery.pk) is None
    assert len(failing_receiver.received()) == 1

    _make_due(delivery)
    before = timezone.now()
    webhook_delivery_send(delivery_id=delivery.pk)
    after = timezone.now()

    delivery.refresh_from_db()
    assert delivery.attempts == 2
    wait = timedelta(seconds=60)
    assert before + wait <= delivery.next_attempt_at <= after + wait


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 30), (2, 60), (3, 120), (7, 1920)]
)
def test_the_backoff_starts_at_the_configured_base_and_doubles(
    attempts: int, seconds: int
) -> None:
    assert webhook_retry_policy().delay(attempts) == timedelta(seconds=seconds)


def test_no_wait_between_attempts_is_longer_than_an_hour(
    settings: SettingsWrapper,
) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1200

    waits = [webhook_retry_policy().delay(n) for n in range(1, 6)]

    assert waits == [timedelta(minutes=m) for m in (20, 40, 60, 60, 60)]


def test_a_delivery_is_given_up_after_the_maximum_number_of_attempts(
    lead: Lead, failing_receiver: WebhookReceiver, settings: SettingsWrapper
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    delivery = _delivery_for(_endpoint(failing_receiver.url), lead)

    for _ in range(3):
        _make_due(delivery)
        webhook_delivery_send(delivery_id=delivery.pk)
    _make_due(delivery)
    after_giving_up = webhook_delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.last_status_code == 500
    assert after_giving_up is None
    assert len(failing_receiver.received()) == 3


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_endpoint_is_retried_with_the_reason_recorded(
    lead: Lead,
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/hook"
    delivery = _delivery_for(_endpoint(url), lead)

    webhook_delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code is None
    assert "refused" in delivery.last_error.lower()


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(
    lead: Lead,
) -> None:
    with running_webhook_receiver(secret=SECRET, statuses=(302,)) as redirecting:
        delivery = _delivery_for(_endpoint(redirecting.url), lead)
        webhook_delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code == 302
    assert len(redirecting.received()) == 1


def test_an_endpoint_deactivated_before_sending_fails_the_delivery_unsent(
    lead: Lead, receiver: WebhookReceiver
) -> None:
    endpoint = _endpoint(receiver.url)
    delivery = _delivery_for(endpoint, lead)
    endpoint.is_active = False
    endpoint.save()

    webhook_delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "deactivated" in delivery.last_error
    assert receiver.received() == []


def test_an_endpoint_url_no_request_can_be_made_of_fails_at_once_with_the_reason(
    lead: Lead,
) -> None:
    delivery = _delivery_for(_endpoint("crm.example/hooks"), lead)

    webhook_delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "cannot be requested" in delivery.last_error
    _make_due(delivery)
    assert webhook_delivery_send_due() == 0


def test_a_delivery_whose_worker_stopped_mid_send_is_sent_again_after_its_lease(
    lead: Lead, receiver: WebhookReceiver
) -> None:
    delivery = _delivery_for(_endpoint(receiver.url), lead)
    # A worker claimed it and died: the row says "sending" with a lease.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING,
        attempts=1,
        next_attempt_at=timezone.now() + timedelta(minutes=2),
    )

    during_lease = webhook_delivery_send(delivery_id=delivery.pk)
    _make_due(delivery)
    after_lease = webhook_delivery_send(delivery_id=delivery.pk)

    assert during_lease is None
    assert after_lease is not None
    assert after_lease.status == DeliveryStatus.SENT
    assert after_lease.attempts == 2
    assert len(receiver.received()) == 1


# The periodic sweep, the task, and "retry now"


def test_the_sweep_hands_due_and_stalled_deliveries_to_workers(
    lead: Lead,
    settings: SettingsWrapper,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    endpoint = _endpoint()
    now = timezone.now()
    past, future = now - timedelta(minutes=1), now + timedelta(minutes=1)

    def delivery(status: str, next_attempt_at: Any, attempts: int = 1) -> int:
        return WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_type="lead.created",
            lead=lead,
            body={},
            status=status,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
        ).pk

    due = delivery(DeliveryStatus.PENDING, past, attempts=0)
    retry_due = delivery(DeliveryStatus.PENDING, past)
    stalled = delivery(DeliveryStatus.SENDING, past)
    delivery(DeliveryStatus.PENDING, future)
    delivery(DeliveryStatus.SENDING, future)
    delivery(DeliveryStatus.SENT, past)
    delivery(DeliveryStatus.FAILED, past)
    stalled_on_last_attempt = delivery(DeliveryStatus.SENDING, past, attempts=3)
    # Attempts left when WEBHOOK_MAX_ATTEMPTS was higher:
    out_of_attempts = delivery(DeliveryStatus.PENDING, past, attempts=5)

    with django_capture_on_commit_callbacks() as callbacks:
        handed = webhook_delivery_send_due(now=now)

    assert handed == 3
    assert len(callbacks) == 3
    given_up = WebhookDelivery.objects.get(pk=stalled_on_last_attempt)
    assert given_up.status == DeliveryStatus.FAILED
    assert "stopped" in given_up.last_error
    assert WebhookDelivery.objects.get(pk=out_of_attempts).status == "failed"
    assert set(
        WebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
            next_attempt_at__lte=now,
        ).values_list("pk", flat=True)
    ) == {due, retry_due, stalled}


class _Retried(Exception):
    pass


@pytest.fixture
def retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The countdowns the send task asked Celery to retry with."""
    countdowns: list[float] = []

    def retry(*, countdown: float) -> _Retried:
        countdowns.append(countdown)
        return _Retried()

    monkeypatch.setattr(tasks.webhook_delivery_send_task, "retry", retry)
    return countdowns


def test_the_task_runs_again_when_the_failed_attempts_backoff_ends(
    lead: Lead, failing_receiver: WebhookReceiver, retries: list[float]
) -> None:
    delivery = _delivery_for(_endpoint(failing_receiver.url), lead)

    with pytest.raises(_Retried):
        tasks.webhook_delivery_send_task(delivery.pk)

    [countdown] = retries
    assert 28 < countdown <= 30


def test_the_task_leaves_a_long_backoff_to_the_periodic_sweep(
    lead: Lead,
    failing_receiver: WebhookReceiver,
    retries: list[float],
    settings: SettingsWrapper,
) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 3600
    delivery = _delivery_for(_endpoint(failing_receiver.url), lead)

    tasks.webhook_delivery_send_task(delivery.pk)

    assert retries == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


def test_the_task_does_not_retry_a_sent_delivery_or_one_that_is_gone(
    lead: Lead, receiver: WebhookReceiver, retries: list[float]
) -> None:
    delivery = _delivery_for(_endpoint(receiver.url), lead)

    tasks.webhook_delivery_send_task(delivery.pk)
    tasks.webhook_delivery_send_task(delivery.pk)
    tasks.webhook_delivery_send_task(delivery.pk + 1000)

    assert retries == []
    assert len(receiver.received()) == 1


def test_retry_now_gives_a_failed_delivery_a_fresh_series_of_attempts(
    lead: Lead, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    delivery = _delivery_for(_endpoint(), lead)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, attempts=8
    )

    with django_capture_on_commit_callbacks() as callbacks:
        retried = webhook_delivery_retry(delivery=delivery)

    delivery.refresh_from_db()
    assert retried is True
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 0
    assert delivery.next_attempt_at <= timezone.now()
    assert len(callbacks) == 1


def test_retry_now_leaves_a_sent_delivery_alone(lead: Lead) -> None:
    delivery = _delivery_for(_endpoint(), lead)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENT)

    assert webhook_delivery_retry(delivery=delivery) is False
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


# Signing


def test_the_signature_is_hmac_sha256_of_the_timestamp_a_dot_and_the_body() -> None:
    body = b'{"id":"1","type":"lead.created"}'
    expected = hmac.new(
        b"s3cret", b'1767225600.{"id":"1","type":"lead.created"}', hashlib.sha256
    ).hexdigest()

    assert webhook_signature("s3cret", 1767225600, body) == (
        f"t=1767225600,v1={expected}"
    )
    assert webhook_signature("other", 1767225600, body) != (
        webhook_signature("s3cret", 1767225600, body)
    )


# Admin


def test_an_admin_subscribes_an_endpoint_to_event_types_by_checkbox(
    admin_client: Any,
) -> None:
    form = admin_client.get("/admin/leads/webhookendpoint/add/")
    assert b'value="lead.status_changed"' in form.content

    response = admin_client.post(
        "/admin/leads/webhookendpoint/add/",
        {
            "name": "CRM",
            "url": "https://crm.example.com/hooks/clinic",
            "secret": SECRET,
            "event_types": ["lead.created"],
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["lead.created"]
    assert endpoint.may_receive_health_data is False


def test_an_admin_lists_failed_deliveries_and_retries_them_now(
    admin_client: Any, lead: Lead
) -> None:
    delivery = _delivery_for(_endpoint(), lead)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, attempts=8
    )

    listing = admin_client.get(
        "/admin/leads/webhookdelivery/", {"status__exact": "failed"}
    )
    detail = admin_client.get(f"/admin/leads/webhookdelivery/{delivery.pk}/change/")
    response = admin_client.post(
        "/admin/leads/webhookdelivery/",
        {"action": "retry_now", "_selected_action": [delivery.pk]},
    )

    assert listing.status_code == 200
    assert str(delivery.code).encode() in listing.content
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content  # read-only
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
