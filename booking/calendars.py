"""A practitioner's calendar, behind one small interface with two implementations.

`BuiltInCalendar`: the practitioner subscribes to the feed (booking.ics), which is
read from the database at each fetch, so there is nothing to write and no busy time
to read. `CalDavCalendar`: their own calendar on a CalDAV server (RFC 4791). Each
booking is one event at a URL made from its deterministic UID, so writing it again
(a retry, a duplicate task) replaces the same resource, and a move is another PUT
with a higher SEQUENCE; a cancel deletes it, and a missing event counts as deleted.

Only workers call these: they talk to the network, with short timeouts. Failures
worth another attempt raise CalendarUnavailable (or an OSError); CalendarRefused
means the server turned this event down and would again.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from caldav.collection import Calendar
from caldav.davclient import DAVClient
from caldav.lib import error as caldav_error
from django.conf import settings

from booking.ics import booking_event_ics, booking_event_uid, booking_uid_is_ours
from booking.models import Booking, PractitionerCalendar
from core.zones import clinic_zone

TIMEOUT_SECONDS = 10
# Answers that may change without the event changing: the server's trouble, a
# login or address an admin can correct, a rate limit. Other 4xx refuse the event.
RETRYABLE_STATUSES = frozenset({401, 403, 404, 408, 423, 425, 429})


class CalendarUnavailable(Exception):
    """The calendar server was unreachable, slow, or answered with an error that
    may pass (5xx, rate limit, a login refused): try again later."""


class CalendarRefused(Exception):
    """The calendar server refused this event itself (a 4xx that would repeat)."""


# What an outbox row retries (core.outbox `transient`): ours, and the network's
# own errors (niquests' and requests' exceptions are OSErrors) should one escape.
CALENDAR_ERRORS: tuple[type[Exception], ...] = (CalendarUnavailable, OSError)


class BusyTime(NamedTuple):
    """A time the practitioner's own calendar is busy, and the event's UID."""

    start: dt.datetime
    end: dt.datetime
    uid: str


class CalendarBackend(Protocol):
    """What the sync needs of a calendar. Each call is idempotent."""

    def put(self, booking: Booking) -> None:
        """Make the booking's event there match the booking (create or replace)."""

    def delete(self, booking: Booking) -> None:
        """Make sure the booking's event is not there."""

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[BusyTime]:
        """The calendar's busy times overlapping [start, end), our bookings left out."""


class BuiltInCalendar:
    """The feed serves the database: nothing to write, nothing to read."""

    def put(self, booking: Booking) -> None:
        return None

    def delete(self, booking: Booking) -> None:
        return None

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[BusyTime]:
        return []


class CalDavCalendar:
    """One calendar collection on a CalDAV server, at its full URL."""

    def __init__(
        self,
        *,
        url: str,
        username: str = "",
        password: str = "",
        zone: str = "UTC",
        timeout: int = TIMEOUT_SECONDS,
    ) -> None:
        self.url = url
        self.username = username
        self.password = password
        # Where an all-day or floating event's day begins.
        self.zone = zone
        self.timeout = timeout

    def put(self, booking: Booking) -> None:
        data = booking_event_ics(booking).decode()
        with self._calendar() as calendar:
            try:
                # increase_seqno=False: SEQUENCE is the booking's, never the client's.
                calendar.add_event(data, increase_seqno=False)
            except caldav_error.UidConflictError:
                # The server keeps this UID at another URL (its own naming): update
                # that resource instead.
                existing = calendar.event_by_uid(booking_event_uid(booking))
                existing.data = data
                existing.save(increase_seqno=False)

    def delete(self, booking: Booking) -> None:
        with self._calendar() as calendar:
            try:
                event = calendar.event_by_uid(booking_event_uid(booking))
            except caldav_error.NotFoundError:
                return  # never written, or already deleted: the state we want
            event.delete()  # a 404 here (deleted meanwhile) is success too

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[BusyTime]:
        zone = clinic_zone(self.zone)
        with self._calendar() as calendar:
            found = calendar.search(
                start=start.astimezone(zone),
                end=end.astimezone(zone),
                event=True,
                expand=True,
            )
            return [
                busy
                for event in found
                if (busy := _busy_time(event.icalendar_component, zone)) is not None
                and busy.end > start
                and busy.start < end
            ]

    def _calendar(self) -> "_Connection":
        return _Connection(self)


class _Connection:
    """A client for one operation, closed after it; the server's failures raised
    as CalendarUnavailable or CalendarRefused."""

    def __init__(self, backend: CalDavCalendar) -> None:
        self.backend = backend
        self.client: DAVClient | None = None

    def __enter__(self) -> Any:
        backend = self.backend
        self.client = DAVClient(
            url=backend.url,
            username=backend.username or None,
            password=backend.password or None,
            timeout=backend.timeout,
            # The URL is the calendar's own: no DNS discovery, no sleeping on 429.
            enable_rfc6764=False,
            rate_limit_handle=False,
        )
        return Calendar(client=self.client, url=backend.url)

    def __exit__(self, kind: Any, raised: BaseException | None, trace: Any) -> None:
        if self.client is not None:
            self.client.close()
        if isinstance(raised, caldav_error.DAVError):
            status = raised.status or 0
            if 400 <= status < 500 and status not in RETRYABLE_STATUSES:
                raise CalendarRefused(_error_text(raised)) from raised
            raise CalendarUnavailable(_error_text(raised)) from raised


def _error_text(error: Exception) -> str:
    # caldav's message may quote the server's whole answer: its first line only.
    first = str(error).strip().splitlines()
    return f"{type(error).__name__}: {first[0] if first else ''}"[:300]


def _busy_time(component: Any, zone: dt.tzinfo) -> BusyTime | None:
    """The busy time of one (expanded) VEVENT, or None when it does not block:
    our own booking, cancelled, free ("transparent"), or without a time."""
    uid = str(component.get("UID", ""))
    if booking_uid_is_ours(uid):
        return None
    if str(component.get("STATUS", "")).upper() == "CANCELLED":
        return None
    if str(component.get("TRANSP", "")).upper() == "TRANSPARENT":
        return None
    try:
        start, end = component.start, component.end
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    start, end = _aware(start, zone), _aware(end, zone)
    if end <= start:
        return None
    return BusyTime(start.astimezone(dt.UTC), end.astimezone(dt.UTC), uid[:255])


def _aware(moment: dt.date | dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """A datetime in UTC's terms: a day is its midnight, a floating time is read,
    in `zone`."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _caldav(calendar: PractitionerCalendar) -> CalendarBackend:
    practitioner = calendar.practitioner
    location = practitioner.locations.order_by("pk").first()
    return CalDavCalendar(
        url=calendar.caldav_url,
        username=calendar.caldav_username,
        password=calendar.caldav_password,
        zone=location.time_zone if location else settings.TIME_ZONE,
    )


def _built_in(calendar: PractitionerCalendar) -> CalendarBackend:
    return BuiltInCalendar()


# The one registry of calendar kinds: PractitionerCalendar.Kind -> its backend.
BACKENDS: dict[str, Callable[[PractitionerCalendar], CalendarBackend]] = {
    PractitionerCalendar.Kind.BUILT_IN: _built_in,
    PractitionerCalendar.Kind.CALDAV: _caldav,
}


def calendar_backend(calendar: PractitionerCalendar) -> CalendarBackend:
    """The backend for `calendar`'s kind, with its decrypted settings."""
    return BACKENDS[calendar.kind](calendar)
