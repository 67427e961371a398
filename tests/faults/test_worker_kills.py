"""A worker killed with SIGKILL mid-send, three times in a row: every email reaches
the mail server, every booking the practitioner's CalDAV calendar and every event
the webhook receiver; what is sent twice is only what a kill cut between the
receiver's acceptance and the row's update, with the same Message-ID, event UID or
event id; and a killed worker's rows go out again within seconds (its heartbeat
stops), not when their five-minute lease ends.

The real parts: a private redis-server (broker and cache), worker processes, an
SMTP server and a webhook receiver that keep what they get and then take a second
to answer (so a kill lands inside a send), Radicale, and PostgreSQL. Beat is played
by the test, which sends the due sweeps itself.
"""

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
from celery import Task
from django.db import connection
from django.db.models import Model

from booking.ics import booking_event_uid
from booking.models import Booking, CalendarSync, PractitionerCalendar
from booking.services import booking_create
from clinics.models import Location
from core.models import DeliveryStatus
from followups.models import FollowUpMessage
from intake.models import QuestionnaireVersion
from leads.models import WebhookDelivery, WebhookEndpoint
from tests.faults.conftest import fault_report
from tests.support import services
from tests.support.booking import appointment_make, next_monday_at, practitioner_make
from tests.support.caldav_server import PASSWORD, USER, RadicaleServer
from tests.support.redis_process import (
    RedisProcess,
    redis_server_installed,
    running_redis,
)
from tests.support.smtp import SmtpServer, running_smtp_server
from tests.support.submitting import lead_of, submit
from tests.support.webhook_receiver import WebhookReceiver, running_webhook_receiver
from tests.support.worker import WorkerProcess, running_worker, worker_kill

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PEOPLE = 8  # each: an acknowledgment, a booking, its email, its sync, two events
KILLS = 3
# The receivers keep what they get, then take this long to say so.
ANSWER_AFTER_SECONDS = 1.0
# The workers' heartbeat: a killed worker is taken for dead after three of these.
HEARTBEAT_SECONDS = 2
SWEEP_EVERY_SECONDS = 2.0
# Recovery includes waiting in the queue behind the slow receivers (a second a
# send, two at a time) and, for an early kill, the later kills.
RECOVERY_LIMIT_SECONDS = 40
TEST_LIMIT_SECONDS = 85
SECRET = "whsec-faults-0123456789abcdef"
SWEEPS = {
    "email": "followups.tasks.followup_send_due_task",
    "calendar": "booking.tasks.calendar_sync_send_due_task",
    "webhook": "leads.webhooks.tasks.webhook_delivery_send_due_task",
}
MODELS: dict[str, type[Model]] = {
    "email": FollowUpMessage,
    "calendar": CalendarSync,
    "webhook": WebhookDelivery,
}


@dataclass
class Kill:
    at: float  # time.monotonic()
    # (kind, pk) of each row the killed worker was sending.
    stuck: set[tuple[str, int]]
    recovered_at: float | None = None

    @property
    def recovery_s(self) -> float:
        assert self.recovered_at is not None
        return self.recovered_at - self.at


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    if not redis_server_installed():
        message = "redis-server is not installed (apt-get install redis-server)"
        if services.in_ci():
            pytest.fail(f"{message} (CI=true: a missing service is a failure)")
        pytest.skip(message)
    with running_redis(tmp_path / "redis.log") as server:
        yield server


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[RadicaleServer]:
    server = RadicaleServer(tmp_path / "radicale")
    server.folder.mkdir()
    server.start()
    try:
        server.make_calendar()
        yield server
    finally:
        server.stop()


def _people_booked(
    published: QuestionnaireVersion, location: Location, radicale: RadicaleServer
) -> list[Booking]:
    """PEOPLE people who sent the questionnaire and booked a session with Dr. Demir,
    whose calendar is on `radicale`: each booking due to reach it."""
    doctor = practitioner_make(location, weekdays=(0, 1, 2, 3))
    kind = appointment_make(doctor)
    calendar = PractitionerCalendar(
        practitioner=doctor, kind=PractitionerCalendar.Kind.CALDAV
    )
    calendar.caldav_url = radicale.calendar_url()
    calendar.caldav_username = USER
    calendar.caldav_password = PASSWORD
    calendar.save()
    bookings = []
    for number in range(PEOPLE):
        lead = lead_of(
            submit(
                published,
                full_name=f"Killed Worker {'ABCDEFGHIJ'[number]}",
                email=f"killed-{number}@example.com",
                phone=f"0532 {200 + number} 44 55",
            )
        )
        starts_at = next_monday_at(10 + 4 * (number % 2)) + dt.timedelta(
            days=number // 2
        )
        bookings.append(
            booking_create(
                lead=lead,
                appointment_type=kind,
                practitioner=doctor,
                location=location,
                starts_at=starts_at,
            )
        )
    return bookings


def _sending() -> set[tuple[str, int]]:
    return {
        (kind, pk)
        for kind, model in MODELS.items()
        for pk in model._default_manager.filter(
            status=DeliveryStatus.SENDING
        ).values_list("pk", flat=True)
    }


def _unsent() -> set[tuple[str, int]]:
    return {
        (kind, pk)
        for kind, model in MODELS.items()
        for pk in model._default_manager.exclude(
            status=DeliveryStatus.SENT
        ).values_list("pk", flat=True)
    }


def test_workers_killed_mid_send_lose_nothing_and_their_rows_go_out_in_seconds(
    published: QuestionnaireVersion,
    location: Location,
    private_redis: RedisProcess,
    radicale: RadicaleServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = time.monotonic()
    # Nothing reaches a worker but what the sweeps hand out (as after a broker
    # outage): every row below waits in the database, due.
    monkeypatch.setattr(Task, "apply_async", lambda *args, **kwargs: None)
    smtp: SmtpServer
    receiver: WebhookReceiver
    with (
        running_smtp_server(
            tmp_path / "maildir", answer_after=ANSWER_AFTER_SECONDS
        ) as smtp,
        running_webhook_receiver(
            secret=SECRET, answer_after=ANSWER_AFTER_SECONDS
        ) as receiver,
    ):
        # Given an integrator who hears of new leads and bookings, and PEOPLE people
        # who sent the questionnaire and booked, all of it still to be sent
        WebhookEndpoint.objects.create(
            name="CRM",
            url=receiver.url,
            secret=SECRET,
            event_types=["lead.created", "booking.created"],
        )
        bookings = _people_booked(published, location, radicale)
        expected_rows = {
            kind: set(model._default_manager.values_list("pk", flat=True))
            for kind, model in MODELS.items()
        }
        assert len(expected_rows["calendar"]) == PEOPLE
        assert len(expected_rows["webhook"]) == 2 * PEOPLE
        assert len(expected_rows["email"]) >= PEOPLE

        def worker(name: str) -> AbstractContextManager[WorkerProcess]:
            return running_worker(
                database_name=connection.settings_dict["NAME"],
                log_path=tmp_path / "workers" / f"{name}.log",
                email_url=smtp.url,
                broker_url=private_redis.url(0),
                cache_url=private_redis.url(1),
                concurrency=2,
                # The leases stay as configured (five minutes for an email).
                environment={"WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS)},
            )

        kills: list[Kill] = []

        def note_recoveries() -> None:
            unsent = _unsent()
            for kill in kills:
                if kill.recovered_at is None and not kill.stuck & unsent:
                    kill.recovered_at = time.monotonic()

        def sweep(worker: WorkerProcess, first: str) -> None:
            """The due sweeps, as beat sends them, `first`'s first."""
            for kind in sorted(SWEEPS, key=lambda kind: kind != first):
                worker.send_task(SWEEPS[kind])

        # What has reached each receiver, or (Radicale answers at once) is on its
        # way there.
        counts: dict[str, Callable[[], int]] = {
            "email": lambda: len(smtp.messages()),
            "webhook": lambda: len(receiver.received()),
            "calendar": lambda: CalendarSync.objects.exclude(
                status=DeliveryStatus.PENDING
            ).count(),
        }
        (tmp_path / "workers").mkdir()
        # When a worker is killed as a send is under way, KILLS times, each kill in
        # another kind of send while that kind has any left
        for number in range(1, KILLS + 1):
            with worker(f"killed-{number}") as doomed:
                unsent = {kind for kind, _pk in _unsent()}
                preferred = list(SWEEPS)[(number - 1) % len(SWEEPS)]
                watched = [preferred] if preferred in unsent else sorted(unsent)
                before = {kind: counts[kind]() for kind in watched}
                swept_at = 0.0
                deadline = time.monotonic() + 30
                while all(counts[kind]() <= before[kind] for kind in watched):
                    assert time.monotonic() < deadline, f"none of {watched} went out"
                    if time.monotonic() - swept_at > SWEEP_EVERY_SECONDS:
                        sweep(doomed, first=watched[0])
                        swept_at = time.monotonic()
                    note_recoveries()
                    time.sleep(0.02)
                worker_kill(doomed)
                kills.append(Kill(at=time.monotonic(), stuck=_sending()))
                assert kills[-1].stuck, f"kill {number} cut no send"

        # and a new worker takes over
        with worker("survivor") as survivor:
            deadline = time.monotonic() + 60
            while _unsent() or any(kill.recovered_at is None for kill in kills):
                assert time.monotonic() < deadline, f"never sent: {_unsent()}"
                sweep(survivor, first="email")
                for _ in range(int(SWEEP_EVERY_SECONDS / 0.1)):
                    note_recoveries()
                    time.sleep(0.1)
            assert "Unrecoverable error" not in survivor.log()

        messages = smtp.messages()
        posts = receiver.received()
    events = radicale.events()

    # Then every email, calendar event and webhook event arrived
    emails = {
        row.message_id: row.pk
        for row in FollowUpMessage.objects.filter(pk__in=expected_rows["email"])
    }
    deliveries = {
        str(row.code): row.pk
        for row in WebhookDelivery.objects.filter(pk__in=expected_rows["webhook"])
    }
    received_emails = Counter(str(message["Message-ID"]) for message in messages)
    received_events = Counter(post.headers["X-Clinic-Event-Id"] for post in posts)
    uids = Counter(str(event.icalendar_component["UID"]) for event in events)
    lost = (
        len(set(emails) - set(received_emails))
        + len(set(deliveries) - set(received_events))
        + len({booking_event_uid(booking) for booking in bookings} - set(uids))
    )
    assert lost == 0
    # each duplicate being its twin (same Message-ID, same event id, same UID: the
    # calendar holds each booking once)
    assert set(received_emails) == set(emails)
    assert set(received_events) == set(deliveries)
    assert set(uids) == {booking_event_uid(booking) for booking in bookings}
    assert set(uids.values()) == {1}
    assert all(post.signature_valid and post.status == 200 for post in posts)
    # and only a send that a kill cut short went twice.
    stuck = set().union(*(kill.stuck for kill in kills))
    twice = {("email", emails[key]) for key, n in received_emails.items() if n > 1}
    twice |= {
        ("webhook", deliveries[key]) for key, n in received_events.items() if n > 1
    }
    assert twice <= stuck
    calendar_again = {
        ("calendar", pk)
        for pk, attempts in CalendarSync.objects.values_list("pk", "attempts")
        if attempts > 1
    }
    assert calendar_again <= stuck
    duplicated = sum(n - 1 for n in received_emails.values()) + sum(
        n - 1 for n in received_events.values()
    )
    # Each killed worker was sending at most two rows (its pool of two).
    assert duplicated <= 2 * KILLS
    # The rows of each killed worker went out again long before a lease would end.
    recoveries = [round(kill.recovery_s, 1) for kill in kills]
    assert max(recoveries) < RECOVERY_LIMIT_SECONDS, recoveries
    elapsed = time.monotonic() - started
    fault_report(
        "worker-sigkill",
        kills=KILLS,
        lost=lost,
        duplicated=duplicated,
        calendar_resent=len(calendar_again),
        recovery_s=recoveries,
        emails=len(emails),
        events=len(deliveries),
        bookings=len(bookings),
        run_s=round(elapsed, 1),
    )
    assert elapsed < TEST_LIMIT_SECONDS
