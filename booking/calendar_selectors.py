"""Reads for the practitioners' calendars: the feed behind its token, the bookings
a feed shows, and whether a booking still waits to reach a CalDAV calendar."""

import datetime as dt
from collections.abc import Collection

from django.db.models import Exists, OuterRef, QuerySet

from booking.models import Booking, CalendarSync, PractitionerCalendar
from core.models import DELIVERY_ACTIVE


def practitioner_calendar_get_by_token(token: str) -> PractitionerCalendar | None:
    """The calendar whose feed `token` opens, or None: the token is the only key,
    so anyone may ask and an unknown one finds nothing."""
    if not token:
        return None
    return (
        PractitionerCalendar.objects.select_related("practitioner")
        .filter(feed_token=token)
        .first()
    )


def practitioner_feed_bookings(
    *, practitioner_id: int, since: dt.datetime
) -> list[Booking]:
    """The practitioner's confirmed bookings that end after `since`, soonest first,
    with what their events show."""
    return list(
        Booking.objects.filter(
            practitioner_id=practitioner_id,
            status=Booking.Status.CONFIRMED,
            ends_at__gt=since,
        ).select_related("appointment_type", "location", "lead", "practitioner")
    )


def booking_sync_pending(booking: Booking) -> bool:
    """Whether a change to `booking` still waits to reach a CalDAV calendar
    ("waiting to sync"): queued, being sent, or retrying after a failure. False
    for a built-in calendar, which serves the database as it is."""
    return CalendarSync.objects.filter(
        booking=booking, status__in=DELIVERY_ACTIVE
    ).exists()


def booking_list_with_sync_pending(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """`bookings` with `sync_pending` (booking_sync_pending) on each, in the same
    query: for lists."""
    return bookings.annotate(
        sync_pending=Exists(
            CalendarSync.objects.filter(
                booking=OuterRef("pk"), status__in=DELIVERY_ACTIVE
            )
        )
    )


def leads_waiting_to_sync(*, lead_ids: Collection[int]) -> set[int]:
    """Which of `lead_ids` have a booking change still waiting to reach a CalDAV
    calendar: one query, for a page of leads."""
    return set(
        CalendarSync.objects.filter(
            booking__lead_id__in=lead_ids, status__in=DELIVERY_ACTIVE
        ).values_list("booking__lead_id", flat=True)
    )
