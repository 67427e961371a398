"""Practitioners' calendars: the events and the feed, the sync through the outbox,
busy time in the free slots, and the CalDAV login kept encrypted.

The CalDAV calendar here is a fake that records what it is asked; the real server
(Radicale) is in test_caldav_radicale.py.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import icalendar
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.utils import timezone

from booking import calendars
from booking.calendar_selectors import (
    booking_list_with_sync_pending,
    booking_sync_pending,
)
from booking.calendar_sync import (
    POLICY,
    calendar_busy_import,
    calendar_busy_import_due,
    calendar_sync_queue,
    calendar_sync_send,
    calendar_sync_send_due,
    practitioner_calendar_feed_token_regenerate,
)
from booking.calendars import BusyTime, CalendarRefused, CalendarUnavailable
from booking.ics import (
    booking_event_ics,
    booking_event_uid,
    booking_invitation_ics,
    booking_uid_is_ours,
)
from booking.models import (
    AppointmentType,
    Booking,
    CalendarBusy,
    CalendarSync,
    PractitionerCalendar,
)
from booking.selectors import practitioner_free_slots
from booking.services import booking_create
from clinics.models import Location, Practitioner, StaffMember
from core.models import DeliveryStatus
from core.secrets import secret_decrypt
from core.zones import clinic_zone
from intake.models import QuestionnaireVersion
from leads.models import Lead
from tests.support.booking import appointment_make, next_monday_at, practitioner_make
from tests.support.factories import (
    LeadFactory,
    LocationFactory,
    StaffMemberFactory,
)
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db

MONDAY_10 = next_monday_at(10)
PASSWORD = "correct-horse-caldav-7731"


@dataclass
class FakeCalDav:
    """A CalDAV calendar that records each call, and fails when told to."""

    calls: list[tuple[str, str, int]] = field(default_factory=list)
    busy_times: list[BusyTime] = field(default_factory=list)
    fail_with: Exception | None = None

    def put(self, booking: Booking) -> None:
        self._call("put", booking)

    def delete(self, booking: Booking) -> None:
        self._call("delete", booking)

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[BusyTime]:
        if self.fail_with is not None:
            raise self.fail_with
        return [b for b in self.busy_times if b.end > start and b.start < end]

    def _call(self, what: str, booking: Booking) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append((what, str(booking.code), booking.sequence))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeCalDav:
    backend = FakeCalDav()
    monkeypatch.setitem(
        calendars.BACKENDS, PractitionerCalendar.Kind.CALDAV, lambda calendar: backend
    )
    return backend


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


def _caldav(practitioner: Practitioner) -> PractitionerCalendar:
    calendar = PractitionerCalendar(
        practitioner=practitioner, kind=PractitionerCalendar.Kind.CALDAV
    )
    calendar.caldav_url = "https://caldav.example.com/dr/work/"
    calendar.caldav_username = "dr"
    calendar.caldav_password = PASSWORD
    calendar.save()
    return calendar


def _event(data: bytes) -> tuple[icalendar.Calendar, icalendar.Component]:
    parsed = icalendar.Calendar.from_ical(data)
    (event,) = parsed.walk("VEVENT")
    return parsed, event


# -- The events ------------------------------------------------------------------


def test_the_practitioners_event_has_the_uid_stamp_and_local_time_with_its_zone(
    booking: Booking, location: Location
) -> None:
    data = booking_event_ics(booking)

    parsed, event = _event(data)
    assert "METHOD" not in parsed  # a CalDAV resource, not an iTIP message
    assert str(event["UID"]) == f"booking-{booking.code}@{settings.CALENDAR_UID_DOMAIN}"
    assert booking_uid_is_ours(str(event["UID"]))
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert event["DTSTART"].params["TZID"] == location.time_zone == "Europe/Istanbul"
    assert event.decoded("DTSTART") == booking.starts_at
    local = booking.starts_at.astimezone(clinic_zone("Europe/Istanbul"))
    assert event["DTSTART"].to_ical() == local.strftime("%Y%m%dT%H%M%S").encode()
    assert event.decoded("DTEND") == booking.ends_at
    assert [str(zone["TZID"]) for zone in parsed.walk("VTIMEZONE")] == [
        "Europe/Istanbul"
    ]
    assert event["SEQUENCE"] == booking.sequence
    assert event["STATUS"] == "CONFIRMED"


def test_the_practitioners_event_names_the_appointment_and_lead_never_health(
    booking: Booking, lead: Lead
) -> None:
    _parsed, event = _event(booking_event_ics(booking))

    # Dr. Demir speaks Turkish: the appointment's Turkish name, and the reference.
    assert event["SUMMARY"] == f"Mezoterapi seansı #{str(lead.code)[:8]}"
    text = booking_event_ics(booking).decode()
    for private in ("Ayşe", "Yılmaz", "ayse.yilmaz", "0532", "eligible", "1988"):
        assert private not in text


def test_a_booking_in_berlin_carries_berlins_summer_time() -> None:
    # Built as stored: the zone arithmetic is the point, not the booking rules.
    berlin = LocationFactory.create(
        slug="berlin", name="Berlin", time_zone="Europe/Berlin"
    )
    doctor = practitioner_make(berlin)
    kind = appointment_make(doctor)
    lead = LeadFactory.create(location=berlin)
    starts = dt.datetime(2027, 7, 3, 9, tzinfo=dt.UTC)  # 11:00 in Berlin (CEST)
    booking = Booking.objects.create(
        lead=lead, appointment_type=kind, practitioner=doctor, location=berlin,
        starts_at=starts, ends_at=starts + dt.timedelta(minutes=45),
        blocked_from=starts, blocked_until=starts + dt.timedelta(minutes=45),
    )  # fmt: skip

    parsed, event = _event(booking_event_ics(booking))

    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event["DTSTART"].to_ical() == b"20270703T110000"
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(hours=2)
    (zone,) = parsed.walk("VTIMEZONE")
    assert zone.walk("DAYLIGHT"), "the zone's summer time is described"


def test_the_patients_invitation_is_a_request_in_their_language_from_the_clinic(
    booking: Booking,
) -> None:
    parsed, event = _event(booking_invitation_ics(booking, language="tr"))

    assert parsed["METHOD"] == "REQUEST"
    assert str(event["UID"]) == booking_event_uid(booking)
    assert event["SUMMARY"] == f"Mezoterapi seansı at {settings.CLINIC_NAME}"
    assert str(event["LOCATION"]).startswith("Nişantaşı Clinic")
    assert str(event["ORGANIZER"]) == "mailto:clinic@example.com"
    assert str(event["ATTENDEE"]) == "mailto:ayse.yilmaz@example.com"
    assert event["DTSTART"].params["TZID"] == "Europe/Istanbul"
    _parsed, english = _event(booking_invitation_ics(booking, language="en"))
    assert english["SUMMARY"] == f"Mesotherapy session at {settings.CLINIC_NAME}"


def test_a_cancelled_bookings_invitation_cancels_with_a_higher_sequence(
    booking: Booking,
) -> None:
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.CANCELLED, sequence=1
    )
    booking.refresh_from_db()

    parsed, event = _event(booking_invitation_ics(booking, language="en"))

    assert parsed["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1
    assert str(event["UID"]) == booking_event_uid(booking)


# -- The feed --------------------------------------------------------------------


def test_the_feed_serves_the_practitioners_bookings_by_its_token_only(
    client: Client, booking: Booking, lead: Lead, kind: AppointmentType
) -> None:
    calendar = PractitionerCalendar.objects.create(practitioner=booking.practitioner)
    gone = booking_create(
        lead=lead, appointment_type=kind, practitioner=booking.practitioner,
        location=lead.location, starts_at=MONDAY_10 + dt.timedelta(hours=2),
    )  # fmt: skip
    Booking.objects.filter(pk=gone.pk).update(status=Booking.Status.CANCELLED)
    colleague = practitioner_make(lead.location, name="Dr. Kaya")
    PractitionerCalendar.objects.create(practitioner=colleague)

    response = client.get(f"/calendars/{calendar.feed_token}.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    feed = icalendar.Calendar.from_ical(response.content)
    uids = [str(event["UID"]) for event in feed.walk("VEVENT")]
    assert uids == [booking_event_uid(booking)]  # not the cancelled one
    (event,) = feed.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/Istanbul"
    assert "Ayşe" not in response.content.decode()
    assert client.get("/calendars/not-the-token.ics").status_code == 404
    assert client.get(f"/calendars/{calendar.feed_token[:-1]}.ics").status_code == 404


def test_a_new_feed_address_shuts_the_old_one(client: Client, booking: Booking) -> None:
    calendar = PractitionerCalendar.objects.create(practitioner=booking.practitioner)
    old = calendar.feed_token

    new = practitioner_calendar_feed_token_regenerate(calendar=calendar)

    assert new != old
    assert len(new) >= 43
    assert client.get(f"/calendars/{old}.ics").status_code == 404
    assert client.get(f"/calendars/{new}.ics").status_code == 200


# -- The sync --------------------------------------------------------------------


def _rows(booking: Booking) -> list[CalendarSync]:
    return list(CalendarSync.objects.filter(booking=booking).order_by("pk"))


def test_a_built_in_calendar_gets_no_sync_rows(
    booking: Booking, django_capture_on_commit_callbacks: Any
) -> None:
    PractitionerCalendar.objects.create(practitioner=booking.practitioner)

    with django_capture_on_commit_callbacks() as callbacks:
        assert calendar_sync_queue(booking=booking) == 0

    assert _rows(booking) == []
    assert callbacks == []
    assert booking_sync_pending(booking) is False


def test_each_change_writes_one_sync_row_for_a_caldav_calendar_sent_on_commit(
    booking: Booking, django_capture_on_commit_callbacks: Any
) -> None:
    calendar = _caldav(booking.practitioner)

    with django_capture_on_commit_callbacks() as callbacks:
        calendar_sync_queue(booking=booking)
    Booking.objects.filter(pk=booking.pk).update(sequence=1)
    booking.refresh_from_db()
    with django_capture_on_commit_callbacks() as later:
        calendar_sync_queue(booking=booking)

    rows = _rows(booking)
    assert [(row.calendar_id, row.sequence) for row in rows] == [
        (calendar.pk, 0),
        (calendar.pk, 1),
    ]
    assert len(callbacks) == len(later) == 1
    assert booking_sync_pending(booking) is True
    listed = booking_list_with_sync_pending(Booking.objects.filter(pk=booking.pk))
    assert [vars(b)["sync_pending"] for b in listed] == [True]


def test_booking_with_a_caldav_practitioner_queues_exactly_one_sync(
    lead: Lead, kind: AppointmentType, doctor: Practitioner
) -> None:
    calendar = _caldav(doctor)

    booked = booking_create(
        lead=lead, appointment_type=kind, practitioner=doctor,
        location=lead.location, starts_at=MONDAY_10,
    )  # fmt: skip

    assert [(row.calendar_id, row.sequence) for row in _rows(booked)] == [
        (calendar.pk, 0)
    ]
    assert booking_sync_pending(booked) is True


def test_the_sync_puts_a_confirmed_booking_and_deletes_a_cancelled_one(
    booking: Booking, fake: FakeCalDav
) -> None:
    _caldav(booking.practitioner)
    calendar_sync_queue(booking=booking)
    (first,) = _rows(booking)

    assert calendar_sync_send(sync_id=first.pk) is True
    assert calendar_sync_send(sync_id=first.pk) is False  # sent: nothing again
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.CANCELLED, sequence=1
    )
    booking.refresh_from_db()
    calendar_sync_queue(booking=booking)
    second = _rows(booking)[-1]
    assert calendar_sync_send(sync_id=second.pk) is True

    code = str(booking.code)
    assert fake.calls == [("put", code, 0), ("delete", code, 1)]
    assert booking_sync_pending(booking) is False


def test_a_row_sent_late_writes_the_bookings_current_state(
    booking: Booking, fake: FakeCalDav
) -> None:
    _caldav(booking.practitioner)
    calendar_sync_queue(booking=booking)
    (stale,) = _rows(booking)
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.CANCELLED, sequence=1
    )

    calendar_sync_send(sync_id=stale.pk)

    assert fake.calls == [("delete", str(booking.code), 1)]


def test_a_booking_moved_to_another_practitioner_leaves_the_first_calendar(
    booking: Booking, fake: FakeCalDav, location: Location, kind: AppointmentType
) -> None:
    first = _caldav(booking.practitioner)
    calendar_sync_queue(booking=booking)
    calendar_sync_send(sync_id=_rows(booking)[0].pk)
    colleague = practitioner_make(location, name="Dr. Kaya")
    kind.practitioners.add(colleague)
    second = _caldav(colleague)
    Booking.objects.filter(pk=booking.pk).update(practitioner=colleague, sequence=1)
    booking.refresh_from_db()

    assert calendar_sync_queue(booking=booking) == 2
    for row in _rows(booking)[1:]:
        calendar_sync_send(sync_id=row.pk)

    code = str(booking.code)
    by_calendar = {
        row.calendar_id: row.status for row in _rows(booking) if row.sequence == 1
    }
    assert by_calendar == {first.pk: "sent", second.pk: "sent"}
    assert sorted(fake.calls) == sorted(
        [("put", code, 0), ("delete", code, 1), ("put", code, 1)]
    )


def test_a_calendar_server_away_leaves_the_change_waiting_with_its_error(
    booking: Booking, fake: FakeCalDav
) -> None:
    _caldav(booking.practitioner)
    calendar_sync_queue(booking=booking)
    (row,) = _rows(booking)
    fake.fail_with = CalendarUnavailable("ConnectionError: refused")

    before = timezone.now()
    assert calendar_sync_send(sync_id=row.pk) is False

    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING
    assert row.attempts == 1
    assert "refused" in row.last_error
    assert row.next_attempt_at >= before + POLICY.first_delay
    assert booking_sync_pending(booking) is True
    # Not due yet: the sweep leaves it until its retry time, then hands it out.
    assert calendar_sync_send_due(now=timezone.now()) == 0
    fake.fail_with = None
    CalendarSync.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert calendar_sync_send(sync_id=row.pk) is True
    assert booking_sync_pending(booking) is False


def test_a_refused_event_or_a_calendar_no_longer_caldav_fails_the_row(
    booking: Booking, fake: FakeCalDav
) -> None:
    calendar = _caldav(booking.practitioner)
    calendar_sync_queue(booking=booking)
    calendar_sync_queue(booking=booking)
    refused, orphan = _rows(booking)
    fake.fail_with = CalendarRefused("PutError: 415 Unsupported Media Type")

    calendar_sync_send(sync_id=refused.pk)
    PractitionerCalendar.objects.filter(pk=calendar.pk).update(
        kind=PractitionerCalendar.Kind.BUILT_IN
    )
    calendar_sync_send(sync_id=orphan.pk)

    refused.refresh_from_db()
    orphan.refresh_from_db()
    assert (refused.status, orphan.status) == ("failed", "failed")
    assert "415" in refused.last_error
    assert "no longer CalDAV" in orphan.last_error


# -- Busy time ---------------------------------------------------------------------


def _busy(start: dt.datetime, minutes: int, uid: str = "dentist@x") -> BusyTime:
    return BusyTime(start, start + dt.timedelta(minutes=minutes), uid)


def test_busy_time_from_the_calendar_takes_those_slots_away(
    doctor: Practitioner,
    kind: AppointmentType,
    location: Location,
    fake: FakeCalDav,
) -> None:
    calendar = _caldav(doctor)
    fake.busy_times = [_busy(MONDAY_10 + dt.timedelta(hours=2), 60)]  # 12:00-13:00
    now = MONDAY_10 - dt.timedelta(days=1)

    assert calendar_busy_import(calendar_id=calendar.pk, now=now) is True

    slots = practitioner_free_slots(
        practitioner=doctor,
        location=location,
        appointment_type=kind,
        now=now,
        until=MONDAY_10 + dt.timedelta(hours=9),
    )
    starts = {timezone.localtime(slot.start).time() for slot in slots}
    # 45 minutes, held 10 before and 15 after: 11:00 ends its hold at 12:00, 13:15
    # starts its hold at 13:05; nothing between fits.
    assert {dt.time(11), dt.time(13, 15)} <= starts
    assert not {dt.time(11, 15), dt.time(12), dt.time(13)} & starts
    calendar.refresh_from_db()
    assert calendar.busy_imported_at == now
    assert calendar.busy_error == ""


def test_a_failed_busy_import_keeps_the_busy_time_read_before(
    doctor: Practitioner, fake: FakeCalDav
) -> None:
    calendar = _caldav(doctor)
    fake.busy_times = [
        _busy(MONDAY_10, 30),
        _busy(MONDAY_10 + dt.timedelta(hours=3), 30),
    ]
    calendar_busy_import(calendar_id=calendar.pk, now=timezone.now())
    fake.fail_with = CalendarUnavailable("ReadTimeout: 10 s")

    assert calendar_busy_import(calendar_id=calendar.pk) is False

    assert CalendarBusy.objects.filter(practitioner=doctor).count() == 2
    calendar.refresh_from_db()
    assert "ReadTimeout" in calendar.busy_error
    assert calendar.busy_error_at is not None
    fake.fail_with = None
    fake.busy_times = [_busy(MONDAY_10, 30)]
    assert calendar_busy_import(calendar_id=calendar.pk) is True
    assert CalendarBusy.objects.filter(practitioner=doctor).count() == 1  # replaced


def test_a_calendar_switched_back_to_built_in_stops_blocking_time(
    doctor: Practitioner, fake: FakeCalDav, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking import tasks

    monkeypatch.setattr(tasks.calendar_busy_import_task, "delay", lambda pk: None)
    calendar = _caldav(doctor)
    fake.busy_times = [_busy(MONDAY_10, 30)]
    calendar_busy_import(calendar_id=calendar.pk, now=timezone.now())
    assert calendar_busy_import_due() == 1
    PractitionerCalendar.objects.filter(pk=calendar.pk).update(
        kind=PractitionerCalendar.Kind.BUILT_IN
    )

    assert calendar_busy_import_due() == 0

    assert not CalendarBusy.objects.filter(practitioner=doctor).exists()


# -- The login, kept secret ------------------------------------------------------


def test_the_caldav_login_is_stored_encrypted(doctor: Practitioner) -> None:
    calendar = _caldav(doctor)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM booking_practitionercalendar WHERE id = %s", [calendar.pk]
        )
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert PASSWORD not in stored
    assert "caldav.example.com" not in stored
    fresh = PractitionerCalendar.objects.get(pk=calendar.pk)
    assert fresh.caldav_password == PASSWORD
    assert secret_decrypt(fresh.caldav_password_secret) == PASSWORD
    assert fresh.caldav_url == "https://caldav.example.com/dr/work/"


def test_the_admin_keeps_the_password_unless_a_new_one_is_typed(
    doctor: Practitioner,
) -> None:
    member = StaffMemberFactory.create(role=StaffMember.Role.CLINIC_ADMIN)
    member.user.is_superuser = True
    member.user.save()
    member.user.user_permissions.add(*Permission.objects.all())
    client = Client()
    client.force_login(member.user)
    form = {
        "practitioner": doctor.pk,
        "kind": "caldav",
        "caldav_url": "https://caldav.example.com/dr/work/",
        "caldav_username": "dr",
        "caldav_password": PASSWORD,
    }

    added = client.post("/admin/booking/practitionercalendar/add/", form)
    calendar = PractitionerCalendar.objects.get(practitioner=doctor)
    page = client.get(f"/admin/booking/practitionercalendar/{calendar.pk}/change/")
    kept = client.post(
        f"/admin/booking/practitionercalendar/{calendar.pk}/change/",
        {**form, "caldav_password": "", "caldav_username": "dr2"},
    )

    assert added.status_code == 302, added.content[:2000]
    assert PASSWORD not in page.content.decode()
    assert f"/calendars/{calendar.feed_token}.ics" in page.content.decode()
    assert kept.status_code == 302
    calendar.refresh_from_db()
    assert (calendar.caldav_username, calendar.caldav_password) == ("dr2", PASSWORD)


def test_a_coordinator_never_opens_the_calendar_logins(
    doctor: Practitioner, location: Location
) -> None:
    _caldav(doctor)
    member = StaffMemberFactory.create(locations=[location])
    member.user.user_permissions.add(*Permission.objects.all())
    client = Client()
    client.force_login(member.user)

    response = client.get("/admin/booking/practitionercalendar/")

    assert response.status_code == 403


# -- The environment ---------------------------------------------------------------


def test_caldav_and_schemathesis_share_the_real_urllib3() -> None:
    """caldav's niquests brings urllib3-future, whose wheel would replace urllib3
    and break requests and schemathesis (../shared/STACK-NOTES.md)."""
    import caldav
    import schemathesis
    import urllib3

    assert caldav.__version__
    assert schemathesis.openapi is not None
    version: str = vars(urllib3)["__version__"]
    assert version.startswith("2.")
    # urllib3-future numbers itself 2.2x (2.25.x here) and adds asyncio classes.
    assert not version.startswith("2.2"), version
    assert not hasattr(urllib3, "AsyncPoolManager"), "urllib3 is urllib3-future"
