"""Practitioners' CalDAV calendars against a real server (Radicale) in its own
process: bookings become one event each, move, go away, survive the server being
down, and the practitioner's own appointments block the free times."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from booking.calendar_selectors import booking_sync_pending
from booking.calendar_sync import (
    calendar_busy_import,
    calendar_sync_queue,
    calendar_sync_send,
    calendar_sync_send_due,
)
from booking.ics import booking_event_uid
from booking.models import (
    AppointmentType,
    Booking,
    CalendarBusy,
    CalendarSync,
    PractitionerCalendar,
)
from booking.selectors import practitioner_free_slots
from booking.services import booking_create
from booking.tasks import calendar_sync_send_task
from clinics.models import Location, Practitioner
from core.models import DeliveryStatus
from core.zones import clinic_zone
from intake.models import QuestionnaireVersion
from leads.models import Lead
from tests.support.booking import appointment_make, next_monday_at, practitioner_make
from tests.support.caldav_server import PASSWORD, USER, RadicaleServer
from tests.support.submitting import lead_of, submit
from tests.support.waiting import wait_for_status
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

MONDAY_10 = next_monday_at(10)
ZONE = "Europe/Istanbul"


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[RadicaleServer]:
    """A Radicale process with the practitioner's calendar collection made."""
    server = RadicaleServer(tmp_path)
    server.start()
    try:
        server.make_calendar()
        yield server
    finally:
        server.stop()


@pytest.fixture
def doctor(location: Location) -> Practitioner:
    return practitioner_make(location)


@pytest.fixture
def kind(doctor: Practitioner) -> AppointmentType:
    return appointment_make(doctor)


@pytest.fixture
def lead(published: QuestionnaireVersion) -> Lead:
    return lead_of(submit(published))


@pytest.fixture
def booking(lead: Lead, kind: AppointmentType, doctor: Practitioner) -> Booking:
    return booking_create(
        lead=lead,
        appointment_type=kind,
        practitioner=doctor,
        location=lead.location,
        starts_at=MONDAY_10,
    )


@pytest.fixture
def calendar(radicale: RadicaleServer, doctor: Practitioner) -> PractitionerCalendar:
    """Dr. Demir's calendar set up as CalDAV, as the admin does."""
    calendar = PractitionerCalendar(
        practitioner=doctor, kind=PractitionerCalendar.Kind.CALDAV
    )
    calendar.caldav_url = radicale.calendar_url()
    calendar.caldav_username = USER
    calendar.caldav_password = PASSWORD
    calendar.save()
    return calendar


def _sync(booking: Booking) -> list[CalendarSync]:
    """Queue the booking's current state and send it, as the worker would."""
    before = set(CalendarSync.objects.values_list("pk", flat=True))
    calendar_sync_queue(booking=booking)
    rows = list(CalendarSync.objects.exclude(pk__in=before).order_by("pk"))
    for row in rows:
        calendar_sync_send_task(row.pk)  # the task's body, in this process
        row.refresh_from_db()
    return rows


def _events(radicale: RadicaleServer) -> list[tuple[str, dt.datetime, int]]:
    """What another client reads back: (UID, start, SEQUENCE) of each event."""
    found = []
    for event in radicale.events():
        component = event.icalendar_component
        start = component.decoded("DTSTART")
        assert component["DTSTART"].params["TZID"] == ZONE
        found.append((str(component["UID"]), start, int(component["SEQUENCE"])))
    return found


def _move(booking: Booking, starts_at: dt.datetime) -> Booking:
    """A reschedule as stored (booking.services' rules are tested elsewhere)."""
    length = booking.ends_at - booking.starts_at
    Booking.objects.filter(pk=booking.pk).update(
        starts_at=starts_at,
        ends_at=starts_at + length,
        blocked_from=starts_at - (booking.starts_at - booking.blocked_from),
        blocked_until=starts_at + length + (booking.blocked_until - booking.ends_at),
        sequence=booking.sequence + 1,
    )
    booking.refresh_from_db()
    return booking


def _other_event(uid: str, starts: dt.datetime, extra: str) -> str:
    """An hour-long event someone else put in the calendar, in UTC."""
    start = starts.astimezone(dt.UTC)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//someone//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20270101T000000Z\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
        f"DTEND:{start + dt.timedelta(hours=1):%Y%m%dT%H%M%SZ}\r\n"
        f"SUMMARY:Private\r\n{extra}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def _cancel(booking: Booking) -> Booking:
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.CANCELLED,
        cancelled_at=timezone.now(),
        sequence=booking.sequence + 1,
    )
    booking.refresh_from_db()
    return booking


def test_a_booking_becomes_one_event_in_the_practitioners_calendar(
    radicale: RadicaleServer, booking: Booking, calendar: PractitionerCalendar
) -> None:
    (row,) = _sync(booking)

    assert row.status == DeliveryStatus.SENT
    events = _events(radicale)
    assert events == [(booking_event_uid(booking), booking.starts_at, 0)]
    (event,) = radicale.events()
    start = event.icalendar_component["DTSTART"]
    local = booking.starts_at.astimezone(clinic_zone(ZONE))
    assert start.to_ical() == local.strftime("%Y%m%dT%H%M%S").encode()
    assert "VTIMEZONE" in event.data


def test_sending_again_and_duplicate_tasks_make_no_second_event(
    radicale: RadicaleServer, booking: Booking, calendar: PractitionerCalendar
) -> None:
    (row,) = _sync(booking)
    calendar_sync_send_task(row.pk)  # a redelivered task: the row is sent
    _sync(booking)  # another change that changed nothing
    _sync(booking)

    assert _events(radicale) == [(booking_event_uid(booking), booking.starts_at, 0)]


def test_a_reschedule_moves_the_event_and_a_cancel_removes_it(
    radicale: RadicaleServer, booking: Booking, calendar: PractitionerCalendar
) -> None:
    _sync(booking)
    later = MONDAY_10 + dt.timedelta(hours=3)

    (moved,) = _sync(_move(booking, later))

    assert moved.status == DeliveryStatus.SENT
    assert _events(radicale) == [(booking_event_uid(booking), later, 1)]
    (cancelled,) = _sync(_cancel(booking))
    assert cancelled.status == DeliveryStatus.SENT
    assert _events(radicale) == []
    # Cancelling what is already gone is success too.
    (again,) = _sync(booking)
    assert again.status == DeliveryStatus.SENT


def test_the_practitioners_own_appointments_are_imported_and_block_those_times(
    radicale: RadicaleServer,
    booking: Booking,
    calendar: PractitionerCalendar,
    kind: AppointmentType,
    location: Location,
    doctor: Practitioner,
) -> None:
    _sync(booking)  # our own booking at 10:00 is in the calendar too
    dentist = MONDAY_10.astimezone(clinic_zone(ZONE)).replace(hour=14)
    radicale.calendar().add_event(
        dtstart=dentist,
        dtend=dentist + dt.timedelta(hours=1),
        summary="Dentist",
        uid="dentist-appointment@example.org",
    )

    # Neither a cancelled nor a "free" event blocks time; a day off blocks the day.
    for uid, extra in (
        ("cancelled@x", "STATUS:CANCELLED"),
        ("free@x", "TRANSP:TRANSPARENT"),
    ):
        radicale.calendar().add_event(
            _other_event(uid, dentist.replace(hour=16), extra)
        )
    day_off = dentist.date() + dt.timedelta(days=1)
    radicale.calendar().add_event(
        dtstart=day_off, dtend=day_off + dt.timedelta(days=1), uid="day-off@x"
    )

    assert calendar_busy_import(calendar_id=calendar.pk) is True

    busy = list(CalendarBusy.objects.filter(practitioner=doctor))
    midnight = dt.datetime.combine(day_off, dt.time(), tzinfo=clinic_zone(ZONE))
    assert [(b.uid, b.starts_at, b.ends_at) for b in busy] == [
        (
            "dentist-appointment@example.org",
            dentist.astimezone(dt.UTC),
            dentist.astimezone(dt.UTC) + dt.timedelta(hours=1),
        ),
        ("day-off@x", midnight, midnight + dt.timedelta(days=1)),
    ]
    slots = practitioner_free_slots(
        practitioner=doctor,
        location=location,
        appointment_type=kind,
        now=timezone.now(),
        until=MONDAY_10 + dt.timedelta(hours=9),
    )
    starts = {
        slot.start.astimezone(clinic_zone(ZONE)).time()
        for slot in slots
        if slot.start.date() == MONDAY_10.date()
    }
    # 45 minutes held 10 before and 15 after: 13:00 ends its hold at 14:00, 15:15
    # starts its hold at 15:05; nothing between fits.
    assert {dt.time(13), dt.time(15, 15)} <= starts
    assert not {dt.time(13, 15), dt.time(14), dt.time(15)} & starts
    calendar.refresh_from_db()
    assert calendar.busy_error == ""
    assert calendar.busy_imported_at is not None


def test_a_change_made_while_the_server_is_down_arrives_once_it_is_back(
    radicale: RadicaleServer,
    booking: Booking,
    calendar: PractitionerCalendar,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the calendar server is down
    radicale.stop()

    # When the booking is synced, and moved, meanwhile
    (first,) = _sync(booking)
    later = MONDAY_10 + dt.timedelta(hours=2)
    (second,) = _sync(_move(booking, later))

    # Then both wait, with the reason, and staff see "waiting to sync"
    for row in (first, second):
        assert row.status == DeliveryStatus.PENDING
        assert row.attempts == 1
        assert "Connection" in row.last_error
    assert booking_sync_pending(booking) is True
    calendar.refresh_from_db()
    assert calendar_busy_import(calendar_id=calendar.pk) is False
    calendar.refresh_from_db()
    assert "Connection" in calendar.busy_error

    # When the server is back (same port, same collections) and the retry is due
    radicale.start()
    CalendarSync.objects.update(next_attempt_at=timezone.now())
    monkeypatch.setattr(
        calendar_sync_send_task, "delay", lambda pk: calendar_sync_send(sync_id=pk)
    )
    assert calendar_sync_send_due() == 2

    # Then the event is there once, at its latest time, with the same UID
    assert _events(radicale) == [(booking_event_uid(booking), later, 1)]
    assert booking_sync_pending(booking) is False
    assert set(CalendarSync.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_process_sends_the_sync_after_the_commit(
    radicale: RadicaleServer,
    celery_worker: WorkerProcess,
    booking: Booking,
    calendar: PractitionerCalendar,
) -> None:
    # When the change's transaction commits
    with transaction.atomic():
        calendar_sync_queue(booking=booking)

    # Then a worker, through Redis, puts the event in the calendar
    row = CalendarSync.objects.get(booking=booking)
    wait_for_status(row, DeliveryStatus.SENT, DeliveryStatus.FAILED)
    assert row.status == DeliveryStatus.SENT, row.last_error
    assert _events(radicale) == [(booking_event_uid(booking), booking.starts_at, 0)]
