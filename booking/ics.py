"""Bookings as iCalendar (RFC 5545): the practitioner's event, the patient's
invitation, and a practitioner's feed.

One booking is one event everywhere, with one UID made from its code, so a calendar
that receives it again (a retried PUT, a later invitation) replaces its copy, and
SEQUENCE (the booking's) says which copy is newer. Times carry the location's zone
as TZID with its VTIMEZONE, from the pinned tzdata (core.zones), never the host's.

What an event says is the appointment, the time, the place, and for staff the
lead's reference: never a condition, an answer or a screening outcome.
"""

import datetime as dt
from collections.abc import Iterable
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, Timezone, vCalAddress

from booking.calendar_selectors import practitioner_feed_bookings
from booking.models import Booking, PractitionerCalendar
from core.zones import clinic_zone

UID_PREFIX = "booking-"
METHODS = frozenset({"REQUEST", "CANCEL", "PUBLISH"})
# How far back the feed reaches: last weeks' appointments stay visible.
FEED_WEEKS_BACK = 4
# How often a subscribed calendar app should fetch the feed again.
FEED_REFRESH = dt.timedelta(minutes=15)


def booking_event_uid(booking: Booking) -> str:
    """The booking's event UID: the same for every copy and every change."""
    return f"{UID_PREFIX}{booking.code}@{settings.CALENDAR_UID_DOMAIN}"


def booking_uid_is_ours(uid: str) -> bool:
    """Whether an event in someone's calendar is one of our bookings."""
    return uid.startswith(UID_PREFIX) and uid.endswith(
        f"@{settings.CALENDAR_UID_DOMAIN}"
    )


def lead_reference(booking: Booking) -> str:
    """The lead as staff name it on a calendar: the short form of its code."""
    return f"#{str(booking.lead.code)[:8]}"


def booking_event_ics(booking: Booking, *, stamp: dt.datetime | None = None) -> bytes:
    """The practitioner's event of `booking`, as one calendar object resource
    (no METHOD: RFC 4791 5.3.2) for a CalDAV PUT."""
    calendar = _calendar()
    calendar.add_component(_staff_event(booking, stamp=stamp or timezone.now()))
    return _serialise(calendar, [booking])


def booking_invitation_ics(
    booking: Booking,
    *,
    language: str,
    method: str = "REQUEST",
    stamp: dt.datetime | None = None,
) -> bytes:
    """The patient's invitation to `booking` (iTIP, RFC 5546), for their email:
    METHOD:REQUEST adds or updates it in their calendar app, CANCEL (always for a
    cancelled booking) removes it. Named in `language`, from the clinic."""
    method = "CANCEL" if booking.status == Booking.Status.CANCELLED else method
    if method not in METHODS:
        raise ValueError(f"Unknown iTIP method {method!r}")
    calendar = _calendar()
    calendar.add("method", method)
    event = _event(booking, stamp=stamp or timezone.now())
    event.add(
        "summary",
        f"{booking.appointment_type.name(language)} at {settings.CLINIC_NAME}",
    )
    if method == "CANCEL":
        event["status"] = "CANCELLED"
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["CN"] = name or settings.CLINIC_NAME
    event.add("organizer", organizer)
    if booking.lead.email:
        attendee = vCalAddress(f"mailto:{booking.lead.email}")
        attendee.params.update(
            {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED", "RSVP": "FALSE"}
        )
        event.add("attendee", attendee)
    calendar.add_component(event)
    return _serialise(calendar, [booking])


def practitioner_feed_ics(
    calendar: PractitionerCalendar, *, now: dt.datetime | None = None
) -> bytes:
    """The practitioner's subscription feed: their confirmed bookings from
    FEED_WEEKS_BACK weeks ago onward. A cancelled booking is left out, and the
    calendar app drops it at its next refresh."""
    now = now or timezone.now()
    bookings = practitioner_feed_bookings(
        practitioner_id=calendar.practitioner_id,
        since=now - dt.timedelta(weeks=FEED_WEEKS_BACK),
    )
    feed = _calendar()
    feed.add("method", "PUBLISH")
    name = f"{settings.CLINIC_NAME}: {calendar.practitioner.display_name}"
    feed.add("name", name)
    feed.add("x-wr-calname", name)
    feed.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", FEED_REFRESH)
    for booking in bookings:
        feed.add_component(_staff_event(booking, stamp=now))
    return _serialise(feed, bookings)


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Booking//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    return calendar


def _event(booking: Booking, *, stamp: dt.datetime) -> Event:
    """What every copy of the booking's event shares."""
    zone = clinic_zone(booking.location.time_zone)
    event = Event()
    event.add("uid", booking_event_uid(booking))
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", booking.starts_at.astimezone(zone))
    event.add("dtend", booking.ends_at.astimezone(zone))
    event.add("sequence", booking.sequence)
    event.add(
        "status",
        "CANCELLED" if booking.status == Booking.Status.CANCELLED else "CONFIRMED",
    )
    event.add("transp", "OPAQUE")
    place = booking.location
    address = ", ".join(line.strip() for line in place.address.splitlines() if line)
    event.add("location", f"{place.name}, {address}" if address else place.name)
    return event


def _staff_event(booking: Booking, *, stamp: dt.datetime) -> Event:
    """The event as staff see it: the appointment and the lead's reference."""
    event = _event(booking, stamp=stamp)
    language = _practitioner_language(booking)
    event.add(
        "summary",
        f"{booking.appointment_type.name(language)} {lead_reference(booking)}",
    )
    event.add("description", f"Lead {booking.lead.code}")
    return event


def _practitioner_language(booking: Booking) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    spoken = [code for code in booking.practitioner.languages if code in known]
    return spoken[0] if spoken else settings.LANGUAGE_CODE


def _serialise(calendar: Calendar, bookings: Iterable[Booking]) -> bytes:
    """The calendar with a VTIMEZONE for each location zone its events use,
    covering the years they fall in, before the events (RFC 5545 3.6.5)."""
    years: dict[str, tuple[int, int]] = {}
    for booking in bookings:
        name = booking.location.time_zone
        first, last = years.get(name, (booking.starts_at.year, booking.ends_at.year))
        years[name] = (
            min(first, booking.starts_at.year),
            max(last, booking.ends_at.year),
        )
    zones = [
        Timezone.from_tzinfo(
            clinic_zone(name),
            tzid=name,
            first_date=dt.date(first, 1, 1),
            last_date=dt.date(last + 1, 1, 1),
        )
        for name, (first, last) in sorted(years.items())
    ]
    calendar.subcomponents[0:0] = zones
    data: bytes = calendar.to_ical()
    return data
