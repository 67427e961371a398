"""Bookings as iCalendar (RFC 5545), with the `icalendar` package.

The event's UID derives from the booking's code, so every copy of one booking (the
patient's invitation, the practitioner's feed, a CalDAV calendar) is the same event
to a calendar app, and its SEQUENCE says which copy is newer. Times carry the
location's zone (TZID, with its VTIMEZONE) from the pinned tz database
(core.zones), the one the slots were computed with.
"""

import datetime as dt
from email.utils import parseaddr

import icalendar
from django.conf import settings
from django.utils import timezone

from booking.models import Booking
from core.zones import clinic_zone

PRODID = "-//Clinic intake//Booking//EN"


def _clinic_address() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "clinic@localhost"


def booking_uid(booking: Booking) -> str:
    """The same for every copy and change of one booking."""
    domain = _clinic_address().rpartition("@")[2]
    return f"booking-{booking.code}@{domain}"


def booking_event(
    booking: Booking, *, summary: str, stamp: dt.datetime
) -> icalendar.Event:
    """The event of `booking`, titled `summary`."""
    zone = clinic_zone(booking.location.time_zone)
    event = icalendar.Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", booking.starts_at.astimezone(zone))
    event.add("dtend", booking.ends_at.astimezone(zone))
    event.add("sequence", booking.sequence)
    event.add("summary", summary)
    place = ", ".join(p for p in (booking.location.name, booking.location.address) if p)
    event.add("location", place)
    cancelled = booking.status == Booking.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _calendar(method: str | None, events: list[icalendar.Event]) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    for event in events:
        calendar.add_component(event)
    zones = {event.decoded("dtstart").tzinfo for event in events}
    for zone in sorted(zones, key=str):
        calendar.add_component(icalendar.Timezone.from_tzinfo(zone, tzid=str(zone)))
    text: bytes = calendar.to_ical()
    return text


def booking_invitation_ics(
    booking: Booking, *, language: str, method: str = "REQUEST"
) -> bytes:
    """The patient's copy: METHOD:REQUEST (or CANCEL), titled with the appointment
    in their language and the clinic's name; organised by the clinic."""
    event = booking_event(
        booking,
        summary=f"{booking.appointment_type.name(language)} · {settings.CLINIC_NAME}",
        stamp=timezone.now(),
    )
    event.add(
        "organizer",
        f"mailto:{_clinic_address()}",
        parameters={"cn": settings.CLINIC_NAME},
    )
    return _calendar(method, [event])
