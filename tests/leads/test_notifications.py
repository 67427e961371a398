import datetime as dt
import smtplib

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import OperationalError, transaction
from django.utils import timezone
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks
from pytest_django.fixtures import Settings as SettingsWrapper

from core.models import DeliveryStatus
from leads.models import Lead, LeadTreatment, StaffNotification
from leads.services import notifications
from leads.services.notifications import (
    POLICY,
    staff_notification_queue,
    staff_notification_send,
    staff_notification_send_due,
)
from leads.tasks import staff_notification_send_task
from tests.support.escalation import lead, open_location, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Ids handed to the broker, which unit tests do not reach."""
    sent: list[int] = []
    monkeypatch.setattr(staff_notification_send_task, "delay", sent.append)
    return sent


@pytest.fixture
def coordinator() -> User:
    return staff(email="deniz@clinic.example")


@pytest.fixture
def new_lead(coordinator: User) -> Lead:
    location = open_location(
        "nisantasi", name="Nişantaşı", time_zone="America/New_York"
    )
    return lead(
        location=location,
        owner=coordinator,
        full_name="Ayşe O'Brien",
        priority=Lead.Priority.HIGH,
        due_at=dt.datetime(2026, 6, 1, 14, 5, tzinfo=dt.UTC),  # 10:05 in New York
    )


def queued(recipient: User, target: Lead, kind: str = "assigned") -> StaffNotification:
    with transaction.atomic():
        return staff_notification_queue(recipient=recipient, lead=target, kind=kind)


def make_due(notification: StaffNotification) -> None:
    """Let the retry wait (or a lease) run out."""
    StaffNotification.objects.filter(pk=notification.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def test_a_notification_is_sent_only_once_the_change_commits(
    coordinator: User,
    new_lead: Lead,
    enqueued: list[int],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notification = queued(coordinator, new_lead)
        assert enqueued == []

    assert enqueued == [notification.pk]
    assert notification.status == DeliveryStatus.PENDING


def test_a_change_rolled_back_leaves_no_notification(
    coordinator: User,
    new_lead: Lead,
    enqueued: list[int],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    def assign_then_fail() -> None:
        with transaction.atomic():
            staff_notification_queue(
                recipient=coordinator, lead=new_lead, kind="assigned"
            )
            raise RuntimeError("the change failed")

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
    ):
        assign_then_fail()

    assert not StaffNotification.objects.exists()
    assert enqueued == []


def test_an_unknown_kind_is_refused(coordinator: User, new_lead: Lead) -> None:
    with pytest.raises(ValueError, match="unknown staff notification kind"):
        queued(coordinator, new_lead, kind="birthday")


def test_the_coordinator_gets_the_lead_reference_priority_deadline_and_link(
    coordinator: User, new_lead: Lead, settings: SettingsWrapper
) -> None:
    settings.SITE_URL = "https://clinic.example/"
    notification = queued(coordinator, new_lead)

    assert staff_notification_send(notification_id=notification.pk) is True

    [message] = mail.outbox
    assert message.to == ["deniz@clinic.example"]
    assert message.subject == (
        f"A lead was assigned to you: lead {new_lead.reference}, high priority"
    )
    assert "Ayşe" not in message.subject  # subjects show on locked screens
    body = str(message.body)
    assert "assigned to you" in body
    assert "Ayşe O'Brien" in body  # plain text: nothing HTML-escaped
    assert "Nişantaşı" in body
    assert "High" in body
    assert f"Owner: {coordinator.username}" in body
    assert "Mon 1 Jun 2026, 10:05 (America/New_York)" in body
    assert f"https://clinic.example/admin/leads/lead/{new_lead.pk}/change/" in body
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.SENT
    assert notification.sent_at is not None
    assert notification.attempts == 1


def test_an_email_about_a_lead_carries_no_health_data(
    coordinator: User, new_lead: Lead
) -> None:
    LeadTreatment.objects.create(
        lead=new_lead, treatment="mesotherapy", outcome="contraindicated"
    )
    for kind in StaffNotification.Kind.values:
        staff_notification_send(notification_id=queued(coordinator, new_lead, kind).pk)

    assert len(mail.outbox) == len(StaffNotification.Kind.values)
    for message in mail.outbox:
        text = f"{message.subject}\n{message.body}".lower()
        assert "mesotherapy" not in text
        assert "contraindicated" not in text
        assert new_lead.phone not in text
        assert new_lead.email not in text


@pytest.mark.parametrize(
    ("kind", "sentence"),
    [
        ("assigned", "A new lead was assigned to you."),
        ("overdue", "its first-contact deadline has passed"),
        ("escalated", "not been contacted before its first-contact deadline"),
        ("task", "There is a new task for you on this lead."),
    ],
)
def test_each_kind_of_email_says_why_it_was_sent(
    coordinator: User, new_lead: Lead, kind: str, sentence: str
) -> None:
    staff_notification_send(notification_id=queued(coordinator, new_lead, kind).pk)

    assert sentence in str(mail.outbox[0].body)


def test_a_notification_already_sent_is_not_sent_again(
    coordinator: User, new_lead: Lead
) -> None:
    notification = queued(coordinator, new_lead)
    staff_notification_send(notification_id=notification.pk)
    make_due(notification)

    assert staff_notification_send(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1


def test_a_notification_another_worker_is_sending_is_left_to_it(
    coordinator: User, new_lead: Lead
) -> None:
    notification = queued(coordinator, new_lead)
    StaffNotification.objects.filter(pk=notification.pk).update(
        status=DeliveryStatus.SENDING,
        next_attempt_at=timezone.now() + POLICY.lease,
    )

    assert staff_notification_send(notification_id=notification.pk) is False
    assert mail.outbox == []


def test_a_notification_whose_worker_died_mid_send_is_sent_after_the_lease(
    coordinator: User, new_lead: Lead
) -> None:
    notification = queued(coordinator, new_lead)
    StaffNotification.objects.filter(pk=notification.pk).update(
        status=DeliveryStatus.SENDING, attempts=1
    )
    make_due(notification)

    assert staff_notification_send(notification_id=notification.pk) is True

    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.SENT
    assert notification.attempts == 2


def test_a_deleted_notification_sends_nothing(
    coordinator: User, new_lead: Lead
) -> None:
    notification = queued(coordinator, new_lead)
    notification.delete()

    assert staff_notification_send(notification_id=notification.pk) is False
    assert mail.outbox == []


def test_a_mail_server_error_is_retried_later_with_growing_waits(
    coordinator: User, new_lead: Lead, monkeypatch: pytest.MonkeyPatch
) -> None:
    def server_away(*args: object, **kwargs: object) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(notifications, "send_mail", server_away)
    notification = queued(coordinator, new_lead)

    waits = []
    for _attempt in range(POLICY.max_attempts - 1):
        before = timezone.now()
        assert staff_notification_send(notification_id=notification.pk) is False
        notification.refresh_from_db()
        assert notification.status == DeliveryStatus.PENDING
        waits.append(notification.next_attempt_at - before)
        # Not due yet: a duplicate task or the periodic task sends nothing.
        assert staff_notification_send(notification_id=notification.pk) is False
        make_due(notification)

    assert notification.attempts == POLICY.max_attempts - 1
    assert "SMTPServerDisconnected" in notification.last_error
    assert waits == sorted(waits)
    assert waits[0] >= dt.timedelta(minutes=1)
    assert waits[-1] >= dt.timedelta(hours=1)


def test_a_notification_fails_for_good_after_the_last_attempt(
    coordinator: User, new_lead: Lead, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: object, **kwargs: object) -> int:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(notifications, "send_mail", refused)
    notification = queued(coordinator, new_lead)
    StaffNotification.objects.filter(pk=notification.pk).update(
        attempts=POLICY.max_attempts - 1
    )

    assert staff_notification_send(notification_id=notification.pk) is False

    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.FAILED
    assert notification.attempts == POLICY.max_attempts
    assert "Connection refused" in notification.last_error
    make_due(notification)
    assert staff_notification_send_due() == 0


def test_a_send_that_keeps_crashing_the_worker_is_given_up(
    coordinator: User, new_lead: Lead
) -> None:
    notification = queued(coordinator, new_lead)
    StaffNotification.objects.filter(pk=notification.pk).update(
        status=DeliveryStatus.SENDING, attempts=POLICY.max_attempts
    )
    make_due(notification)

    assert staff_notification_send(notification_id=notification.pk) is False

    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.FAILED
    assert "attempts did not finish" in notification.last_error
    assert mail.outbox == []


def test_a_recipient_without_an_email_address_fails_with_the_reason(
    new_lead: Lead,
) -> None:
    nobody = staff(email="")
    notification = queued(nobody, new_lead)

    assert staff_notification_send(notification_id=notification.pk) is False

    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.FAILED
    assert "no email address" in notification.last_error
    assert mail.outbox == []


def test_the_wait_between_attempts_doubles_up_to_an_hour() -> None:
    assert [POLICY.delay(n).total_seconds() / 60 for n in range(1, 9)] == [
        1, 2, 4, 8, 16, 32, 60, 60,
    ]  # fmt: skip


def test_the_periodic_send_hands_over_only_what_is_due(
    coordinator: User, new_lead: Lead, enqueued: list[int]
) -> None:
    def row(status: str, due_in: dt.timedelta) -> int:
        notification = queued(coordinator, new_lead)
        StaffNotification.objects.filter(pk=notification.pk).update(
            status=status, next_attempt_at=timezone.now() + due_in
        )
        return notification.pk

    past, future = -dt.timedelta(minutes=1), dt.timedelta(minutes=1)
    never_enqueued = row(DeliveryStatus.PENDING, past)
    worker_died = row(DeliveryStatus.SENDING, past)
    row(DeliveryStatus.PENDING, future)  # waiting for a retry
    row(DeliveryStatus.SENDING, future)  # a worker is sending it
    row(DeliveryStatus.SENT, past)
    row(DeliveryStatus.FAILED, past)

    assert staff_notification_send_due() == 2
    assert sorted(enqueued) == [never_enqueued, worker_died]


def test_the_send_task_sends_by_id_and_a_second_delivery_does_nothing(
    coordinator: User, new_lead: Lead
) -> None:
    notification = queued(coordinator, new_lead)

    staff_notification_send_task(notification.pk)
    staff_notification_send_task(notification.pk)

    assert len(mail.outbox) == 1


def test_the_send_task_is_redelivered_and_retried_when_the_database_is_away() -> None:
    assert staff_notification_send_task.acks_late is True
    autoretry_for = staff_notification_send_task.autoretry_for  # type: ignore[attr-defined]
    assert OperationalError in autoretry_for
