"""Keeping practitioners' CalDAV calendars in step with the bookings, and reading
their busy time, through the outbox and periodic tasks; never from a web request.

A change to a booking writes a CalendarSync row in its own transaction
(`calendar_sync_queue`); a worker then makes the remote calendar match the booking
as it is at that moment (`calendar_sync_send`): confirmed there, the event is put;
cancelled, or moved to another practitioner, it is deleted. Rows carry no state of
their own, so retries, duplicate tasks and rows sent out of order all end at the
booking's current state. Delivery is at least once (core.outbox); PUT and DELETE at
the event's UID are idempotent, so a second delivery changes nothing.
"""

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from booking.calendars import (
    CALENDAR_ERRORS,
    CalendarRefused,
    CalendarUnavailable,
    calendar_backend,
)
from booking.models import (
    AppointmentType,
    Booking,
    CalendarBusy,
    CalendarSync,
    PractitionerCalendar,
    calendar_feed_token,
)
from booking.tasks import calendar_busy_import_task, calendar_sync_send_task
from core.models import DeliveryStatus
from core.outbox import (
    RetryPolicy,
    Unsendable,
    outbox_due,
    outbox_retry_now,
    outbox_send,
)
from core.queueing import enqueue_on_commit

logger = logging.getLogger(__name__)

# Doubling waits from a minute up to an hour, twelve attempts: about eight hours of
# a calendar server away before the row is failed (and shown as such).
POLICY = RetryPolicy(max_attempts=12)
# A booking that keeps changing while it is sent is written again, up to this often.
SEND_ROUNDS = 3
# Busy time is read this far ahead at least, and as far as any type can be booked.
BUSY_MIN_DAYS = 14
_ERROR_LENGTH = 500
# Whatever stops a busy-time import: the next run tries again.
BUSY_ERRORS: tuple[type[Exception], ...] = (*CALENDAR_ERRORS, CalendarRefused)


def calendar_sync_queue(*, booking: Booking) -> int:
    """In the caller's transaction (the one that creates, moves or cancels
    `booking`), write a sync row for each CalDAV calendar the booking must reach,
    and send each once that commits; how many rows.

    The calendars: the booking's practitioner's, and any other that was ever
    synced this booking (it moved to another practitioner: the event leaves that
    calendar). A built-in calendar needs no row: its feed reads the database.
    """
    calendars = list(
        PractitionerCalendar.objects.filter(kind=PractitionerCalendar.Kind.CALDAV)
        .filter(Q(practitioner_id=booking.practitioner_id) | Q(syncs__booking=booking))
        .distinct()
        .values_list("pk", flat=True)
    )
    for calendar_id in calendars:
        row = CalendarSync.objects.create(
            booking=booking, calendar_id=calendar_id, sequence=booking.sequence
        )
        enqueue_on_commit(calendar_sync_send_task, row.pk)
    return len(calendars)


def calendar_sync_queue_upcoming(
    *, calendar: PractitionerCalendar, now: dt.datetime | None = None
) -> int:
    """Queue every confirmed booking still to come with `calendar`'s practitioner,
    e.g. after switching it to CalDAV; how many were queued."""
    bookings = Booking.objects.filter(
        practitioner_id=calendar.practitioner_id,
        status=Booking.Status.CONFIRMED,
        ends_at__gt=now or timezone.now(),
    )
    return sum(calendar_sync_queue(booking=booking) for booking in bookings)


def calendar_sync_send(*, sync_id: int) -> bool:
    """Make the row's calendar match its booking now; whether this call did.

    At least once, never concurrently per row (core.outbox). The server away or
    failing is retried with POLICY's backoff, the row staying pending with its
    last error ("waiting to sync"); a refusal of the event fails it at once.
    """
    row = outbox_send(
        CalendarSync,
        pk=sync_id,
        send=_sync,
        transient=CALENDAR_ERRORS,
        policy=POLICY,
        related=("calendar__practitioner",),
    )
    return row is not None and row.status == DeliveryStatus.SENT


def calendar_sync_send_due(*, now: dt.datetime | None = None) -> int:
    """Hand the broker the sync rows that are due (never enqueued, retrying, or
    left by a worker that stopped); how many."""
    due = outbox_due(CalendarSync, policy=POLICY, now=now or timezone.now())
    for sync_id in due:
        calendar_sync_send_task.delay(sync_id)
    return len(due)


def calendar_sync_retry_now(*, sync_id: int) -> bool:
    """Send a pending or failed row now (a failed one with fresh attempts), once
    the caller's transaction commits; False for a row sent or being sent."""
    if not outbox_retry_now(CalendarSync, pk=sync_id):
        return False
    enqueue_on_commit(calendar_sync_send_task, sync_id)
    return True


def calendar_busy_import_due() -> int:
    """Enqueue a busy-time import for every CalDAV calendar, and drop the busy
    time of calendars no longer CalDAV; how many imports were enqueued."""
    CalendarBusy.objects.exclude(
        practitioner__calendar__kind=PractitionerCalendar.Kind.CALDAV
    ).delete()
    ids = list(
        PractitionerCalendar.objects.filter(
            kind=PractitionerCalendar.Kind.CALDAV
        ).values_list("pk", flat=True)
    )
    for calendar_id in ids:
        calendar_busy_import_task.delay(calendar_id)
    return len(ids)


def calendar_busy_import(*, calendar_id: int, now: dt.datetime | None = None) -> bool:
    """Replace the practitioner's busy time with what their CalDAV calendar says
    from now to the booking horizon; whether it was read.

    All or nothing: on a failure the calendar records the error and the busy time
    read before stays, so a server away keeps its last known busy time blocked.
    Two imports at once for one calendar take turns (the calendar row's lock).
    """
    calendar = (
        PractitionerCalendar.objects.select_related("practitioner")
        .filter(pk=calendar_id, kind=PractitionerCalendar.Kind.CALDAV)
        .first()
    )
    if calendar is None:
        return False
    now = now or timezone.now()
    try:
        busy = calendar_backend(calendar).busy(now, now + busy_horizon())
    except BUSY_ERRORS as error:
        logger.warning(
            "busy time not read: %s",
            type(error).__name__,
            extra={"calendar_id": calendar_id},
        )
        PractitionerCalendar.objects.filter(pk=calendar_id).update(
            busy_error=_error_text(error), busy_error_at=timezone.now()
        )
        return False
    with transaction.atomic():
        PractitionerCalendar.objects.select_for_update().filter(pk=calendar_id).get()
        CalendarBusy.objects.filter(practitioner_id=calendar.practitioner_id).delete()
        CalendarBusy.objects.bulk_create(
            CalendarBusy(
                practitioner_id=calendar.practitioner_id,
                starts_at=block.start,
                ends_at=block.end,
                uid=block.uid,
                imported_at=now,
            )
            for block in busy
        )
        PractitionerCalendar.objects.filter(pk=calendar_id).update(
            busy_imported_at=now, busy_error=""
        )
    return True


def busy_horizon() -> dt.timedelta:
    """How far ahead busy time matters: the furthest any active appointment type
    can be booked, and a day for the local days around it."""
    days = AppointmentType.objects.filter(is_active=True).aggregate(
        days=Max("horizon_days")
    )["days"]
    return dt.timedelta(days=max(days or 0, BUSY_MIN_DAYS) + 1)


def practitioner_calendar_feed_token_regenerate(
    *, calendar: PractitionerCalendar
) -> str:
    """Give the feed a new address; the old one stops working at once (for a
    leaked address). The practitioner subscribes again."""
    calendar.feed_token = calendar_feed_token()
    calendar.save(update_fields=["feed_token"])
    return calendar.feed_token


def _sync(row: CalendarSync) -> None:
    calendar = row.calendar
    if not calendar.is_caldav:
        raise Unsendable("the practitioner's calendar is no longer CalDAV")
    backend = calendar_backend(calendar)
    try:
        for _round in range(SEND_ROUNDS):
            booking = _booking(row.booking_id)
            if booking is None:
                return  # deleted meanwhile: this row goes with it
            wanted = (
                booking.status == Booking.Status.CONFIRMED
                and booking.practitioner_id == calendar.practitioner_id
            )
            if wanted:
                backend.put(booking)
            else:
                backend.delete(booking)
            # A change committed while this one was on its way may have been
            # overwritten by it: write again until the booking holds still.
            if _version(row.booking_id) == _version_of(booking):
                return
    except CalendarRefused as refused:
        raise Unsendable(str(refused)) from refused
    raise CalendarUnavailable("the booking kept changing while it was sent")


def _booking(pk: int) -> Booking | None:
    return (
        Booking.objects.select_related(
            "appointment_type", "location", "lead", "practitioner"
        )
        .filter(pk=pk)
        .first()
    )


def _version(pk: int) -> tuple[object, ...] | None:
    return (
        Booking.objects.filter(pk=pk)
        .values_list("sequence", "status", "practitioner_id", "starts_at", "ends_at")
        .first()
    )


def _version_of(booking: Booking) -> tuple[object, ...]:
    return (
        booking.sequence,
        booking.status,
        booking.practitioner_id,
        booking.starts_at,
        booking.ends_at,
    )


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:_ERROR_LENGTH]
