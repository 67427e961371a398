"""Overdue leads against the real thing: PostgreSQL under two concurrent runs, and
Redis -> a Celery worker process -> an SMTP server for the emails."""

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from clinics.models import Location, StaffMember
from core.models import DeliveryStatus
from leads.models import Lead, LeadEvent, StaffNotification
from leads.services import deadlines
from leads.services.deadlines import lead_deadlines_escalate
from leads.services.notifications import (
    staff_notification_queue,
    staff_notification_send_due,
)
from leads.tasks import lead_deadlines_escalate_task, staff_notification_send_task
from tests.support.escalation import lead, open_location, staff
from tests.support.smtp import SmtpServer, body_of, subject_of
from tests.support.waiting import wait_for_status
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LEADS = 25
RUNS = 2


@pytest.fixture
def location() -> Location:
    return open_location("nisantasi")


@pytest.fixture
def people(location: Location) -> dict[str, User]:
    return {
        "owner": staff(locations=(location,), email="deniz@clinic.example"),
        "lead coordinator": staff(
            locations=(location,), is_lead_coordinator=True, email="ece@clinic.example"
        ),
        "clinic admin": staff(
            role=StaffMember.Role.CLINIC_ADMIN,
            locations=(location,),
            email="admin@clinic.example",
        ),
    }


def run_at_once(work: Callable[[], int], runs: int) -> list[int]:
    """Start `work` in `runs` threads, each with its own database connection,
    released together by a barrier; return what each returned."""
    start = threading.Barrier(runs)

    def run() -> int:
        try:
            start.wait(timeout=10)
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=runs) as pool:
        futures = [pool.submit(run) for _ in range(runs)]
        return [future.result(timeout=60) for future in futures]


@pytest.mark.parametrize(
    "both_read_first",
    [
        pytest.param(False, id="free race"),
        pytest.param(True, id="both runs read every lead before either claims"),
    ],
)
def test_an_overdue_lead_is_escalated_once_when_two_workers_run_at_the_same_time(
    location: Location,
    people: dict[str, User],
    monkeypatch: pytest.MonkeyPatch,
    both_read_first: bool,
) -> None:
    # Given leads 70 minutes overdue: each owes all three steps
    now = timezone.now()
    overdue = [
        lead(
            location=location,
            owner=people["owner"],
            due_at=now - dt.timedelta(minutes=70),
        )
        for _ in range(LEADS)
    ]
    enqueued: list[int] = []
    monkeypatch.setattr(staff_notification_send_task, "delay", enqueued.append)
    if both_read_first:
        # Each run holds its first claim until the other has read the same leads.
        read_all = threading.Barrier(RUNS)
        escalate_one = deadlines._lead_escalate
        held = threading.local()

        def claim_once_both_have_read(**kwargs: object) -> int:
            if not getattr(held, "done", False):
                held.done = True
                read_all.wait(timeout=10)
            return escalate_one(**kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(deadlines, "_lead_escalate", claim_once_both_have_read)

    # When two workers run the periodic escalation at the same moment
    taken = run_at_once(lambda: lead_deadlines_escalate(now=now), RUNS)

    # Then every step happened exactly once per lead
    assert sum(taken) == 3 * LEADS
    for each in overdue:
        each.refresh_from_db()
        assert each.escalation == Lead.Escalation.CLINIC_ADMIN
        events = LeadEvent.objects.filter(lead=each, kind=LeadEvent.Kind.ESCALATED)
        assert sorted(event.data["level"] for event in events) == [1, 2, 3]
    # with one email per person per step, each handed to the broker once.
    sent = Counter(StaffNotification.objects.values_list("lead", "recipient", "kind"))
    assert len(sent) == 3 * LEADS
    assert set(sent.values()) == {1}
    assert sorted(enqueued) == sorted(
        StaffNotification.objects.values_list("pk", flat=True)
    )


def test_the_worker_finds_an_overdue_lead_and_emails_its_owner(
    celery_worker: WorkerProcess,
    smtp_server: SmtpServer,
    location: Location,
    people: dict[str, User],
) -> None:
    # Given a lead whose first-contact deadline passed a minute ago
    smtp_server.clear()
    overdue = lead(
        location=location,
        owner=people["owner"],
        full_name="Ayşe Yılmaz",
        due_at=timezone.now() - dt.timedelta(minutes=1),
    )

    # When beat's periodic escalation runs on the worker
    lead_deadlines_escalate_task.delay()

    # Then the owner gets an email through the SMTP server
    message = smtp_server.wait_for(to="deniz@clinic.example")
    assert subject_of(message) == (
        f"Your lead is overdue: lead {overdue.reference}, high priority"
    )
    body = body_of(message)
    assert "Ayşe Yılmaz" in body
    assert f"/admin/leads/lead/{overdue.pk}/change/" in body
    wait_for_status(StaffNotification.objects.get(lead=overdue), DeliveryStatus.SENT)
    overdue.refresh_from_db()
    assert overdue.escalation == Lead.Escalation.OVERDUE


def test_an_assigned_coordinator_is_emailed_once_the_assignment_commits(
    celery_worker: WorkerProcess,
    smtp_server: SmtpServer,
    location: Location,
    people: dict[str, User],
) -> None:
    smtp_server.clear()
    new = lead(
        location=location,
        owner=people["lead coordinator"],
        due_at=timezone.now() + dt.timedelta(minutes=5),
    )

    with transaction.atomic():
        notification = staff_notification_queue(
            recipient=people["lead coordinator"], lead=new, kind="assigned"
        )

    message = smtp_server.wait_for(to="ece@clinic.example")
    assert subject_of(message).startswith("A lead was assigned to you: ")
    assert new.full_name in body_of(message)
    wait_for_status(notification, DeliveryStatus.SENT)


def test_an_email_the_broker_missed_at_commit_is_sent_by_the_periodic_task(
    celery_worker: WorkerProcess,
    smtp_server: SmtpServer,
    location: Location,
    people: dict[str, User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp_server.clear()
    new = lead(
        location=location,
        owner=people["clinic admin"],
        due_at=timezone.now() + dt.timedelta(minutes=5),
    )

    def broker_down(*args: object) -> None:
        raise BrokerUnavailable("Error 111 connecting to Redis")

    with monkeypatch.context() as patch:
        patch.setattr(staff_notification_send_task, "delay", broker_down)
        with transaction.atomic():
            notification = staff_notification_queue(
                recipient=people["clinic admin"], lead=new, kind="assigned"
            )
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.PENDING

    assert staff_notification_send_due() >= 1

    smtp_server.wait_for(to="admin@clinic.example")
    wait_for_status(notification, DeliveryStatus.SENT)
