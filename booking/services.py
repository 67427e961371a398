"""Making a booking: checked against the lead's screening, refused by the database
when the time is taken, and handed to the lead in the same transaction."""

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.contrib.auth.models import User
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from booking.calendar_sync import calendar_sync_queue
from booking.hooks import BookingChanged, booking_changed
from booking.models import (
    NO_DOUBLE_BOOKING,
    AppointmentType,
    Booking,
    MaintenanceDue,
)
from booking.selectors import (
    booking_may_change,
    course_horizon,
    course_open,
    course_sessions_booked,
    lead_may_book,
    practitioner_free_slots,
    routing_of,
)
from clinics.models import Location, Practitioner
from core.dates import months_after
from core.errors import BusinessError
from core.zones import clinic_zone
from leads.models import Lead
from leads.services.bookings import BookingDigest, lead_booking_record

DEADLOCK = "40P01"


class SlotTaken(BusinessError):
    code = "slot_taken"
    status_code = 409


class NotBookable(BusinessError):
    code = "not_bookable"
    status_code = 403


class ChangeTooLate(BusinessError):
    code = "change_too_late"
    status_code = 409


class BookingCancelled(BusinessError):
    code = "booking_cancelled"
    status_code = 409


class NotAttendedYet(BusinessError):
    code = "not_attended_yet"
    status_code = 409


class CourseSessionTaken(BusinessError):
    code = "course_session_taken"
    status_code = 409


def booking_create(
    *,
    lead: Lead,
    appointment_type: AppointmentType,
    practitioner: Practitioner,
    location: Location,
    starts_at: dt.datetime,
    booked_by: User | None = None,
) -> Booking:
    """Book `appointment_type` with `practitioner` at `starts_at` for `lead`.

    NotBookable when the lead's screening does not allow this treatment now, or the
    practitioner does not perform it there; SlotTaken when the time is not one of
    the free times offered (outside working hours, notice or horizon), or, with its
    buffers, overlaps another booking of the practitioner (on PostgreSQL the
    exclusion constraint decides that, so two requests at once cannot both win).
    """
    _check_bookable(lead, appointment_type, practitioner, location, starts_at)
    course = course_open(lead=lead, appointment_type=appointment_type)
    booking = Booking(
        lead=lead,
        appointment_type=appointment_type,
        booked_by=booked_by,
        routing=routing_of(lead=lead, practitioner=practitioner, location=location),
        course_first=course,
        session_number=_next_session(course) if course else 1,
    )
    with _slot_taken_on_overlap(), transaction.atomic():
        _place(booking, practitioner, location, starts_at)
        booking.save()
        if course is None:  # the first session of its course (of one, or more)
            booking.course_first = booking
            booking.save(update_fields=["course_first"])
        _changed(booking, change="created", actor=booked_by)
    return booking


def course_book_rest(
    *,
    first: Booking,
    times: Mapping[int, dt.datetime],
    booked_by: User | None = None,
) -> list[Booking]:
    """Book sessions of the course `first` starts (session number -> start, as
    booking.selectors.course_rest_propose offers them) with its practitioner at
    its place: all of them or, when one is refused, none. The type's usual horizon
    does not limit them; its screening does, as for any booking."""
    with _slot_taken_on_overlap(), transaction.atomic():
        first = _lock_active(first)
        kind = first.appointment_type
        booked = course_sessions_booked(first)
        sessions = []
        for number, starts_at in sorted(times.items()):
            if first.session_number != 1 or not 2 <= number <= kind.course_sessions:
                raise CourseSessionTaken(
                    _("This course has no session %(number)s.") % {"number": number}
                )
            if number in booked:
                raise CourseSessionTaken(
                    _("Session %(number)s of this course is booked already.")
                    % {"number": number}
                )
            _check_bookable(
                first.lead, kind, first.practitioner, first.location, starts_at
            )
            session = Booking(
                lead=first.lead,
                appointment_type=kind,
                booked_by=booked_by,
                routing=first.routing,
                course_first=first,
                session_number=number,
            )
            _place(session, first.practitioner, first.location, starts_at)
            session.save()
            _changed(session, change="created", actor=booked_by)
            sessions.append(session)
    return sessions


def _next_session(first: Booking) -> int:
    """The lowest session number of `first`'s course not booked."""
    booked = course_sessions_booked(first)
    return next(
        n
        for n in range(2, first.appointment_type.course_sessions + 1)
        if n not in booked
    )


def booking_reschedule(
    *,
    booking: Booking,
    practitioner: Practitioner,
    location: Location,
    starts_at: dt.datetime,
    by: User | None = None,
) -> Booking:
    """Move `booking` to another free time (with the same or another practitioner
    who performs it). The patient may do so until the appointment type's change
    notice (ChangeTooLate after that); staff (`by`) at any time. The lead's
    screening is asked again: a treatment no longer allowed is not moved."""
    with transaction.atomic():
        booking = _lock_active(booking)
        if by is None:
            _check_change_allowed(booking)
        _check_bookable(
            booking.lead, booking.appointment_type, practitioner, location, starts_at
        )
        _place(booking, practitioner, location, starts_at)
        booking.routing = routing_of(
            lead=booking.lead, practitioner=practitioner, location=location
        )
        booking.sequence += 1
        booking.updated_at = timezone.now()
        with _slot_taken_on_overlap(), transaction.atomic():
            booking.save()
        _changed(booking, change="rescheduled", actor=by)
    return booking


def booking_cancel(*, booking: Booking, by: User | None = None) -> Booking:
    """Cancel `booking`, freeing its time. The patient may do so until the
    appointment type's change notice (ChangeTooLate after that); staff at any
    time. Cancelling a cancelled booking changes nothing."""
    with transaction.atomic():
        booking = _lock(booking)
        if booking.status == Booking.Status.CANCELLED:
            return booking
        if by is None:
            _check_change_allowed(booking)
        now = timezone.now()
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = booking.updated_at = now
        booking.sequence += 1
        booking.save(update_fields=["status", "cancelled_at", "updated_at", "sequence"])
        still_booked = (
            Booking.objects.filter(
                lead_id=booking.lead_id,
                status=Booking.Status.CONFIRMED,
                starts_at__gt=now,
            )
            .exclude(pk=booking.pk)
            .exists()
        )
        _changed(booking, change="cancelled", actor=by, still_booked=still_booked)
    return booking


def booking_attended_record(*, booking: Booking, by: User | None) -> Booking:
    """Record that the session took place (staff, once it has begun): the lead
    moves on to in treatment and the aftercare follows. Recording it again changes
    nothing."""
    with transaction.atomic():
        booking = _lock(booking)
        if booking.attended_at is not None:
            return booking
        if booking.status != Booking.Status.CONFIRMED:
            raise BookingCancelled(_("This booking was cancelled."))
        now = timezone.now()
        if booking.starts_at > now:
            raise NotAttendedYet(_("This session has not begun yet."))
        booking.attended_at = booking.updated_at = now
        booking.save(update_fields=["attended_at", "updated_at"])
        lead_booking_record(
            lead=booking.lead, booking=_digest(booking), change="attended", actor=by
        )
        booking_changed.announce(BookingChanged(booking=booking, change="attended"))
    return booking


def _changed(
    booking: Booking, *, change: str, actor: User | None, still_booked: bool = True
) -> None:
    """In the change's transaction: the lead's timeline and webhooks and the
    calendar's sync, written to the database, and the announcement (the patient's
    email is a follow-up's)."""
    lead_booking_record(
        lead=booking.lead,
        booking=_digest(booking),
        change=change,
        actor=actor,
        still_booked=still_booked,
    )
    calendar_sync_queue(booking=booking)
    _maintenance_sync(booking)
    booking_changed.announce(BookingChanged(booking=booking, change=change))


def _maintenance_sync(booking: Booking) -> None:
    """Keep the course's maintenance window in step with its sessions: due 6 to
    12 months (as the type says) after the last session once every session is
    booked; none while the course is incomplete."""
    kind = booking.appointment_type
    first_id = booking.course_first_id
    if first_id is None or not kind.maintenance_from_months:
        return
    sessions = list(
        Booking.objects.filter(
            course_first_id=first_id, status=Booking.Status.CONFIRMED
        ).order_by("-starts_at")
    )
    if len(sessions) < kind.course_sessions:
        MaintenanceDue.objects.filter(course_first_id=first_id).delete()
        return
    last = sessions[0]
    last_day = last.starts_at.astimezone(clinic_zone(last.location.time_zone)).date()
    MaintenanceDue.objects.update_or_create(
        course_first_id=first_id,
        defaults={
            "lead_id": booking.lead_id,
            "appointment_type": kind,
            "due_from": months_after(last_day, kind.maintenance_from_months),
            "due_until": months_after(last_day, kind.maintenance_until_months),
        },
    )


def _check_bookable(
    lead: Lead,
    appointment_type: AppointmentType,
    practitioner: Practitioner,
    location: Location,
    starts_at: dt.datetime,
) -> None:
    if not (
        appointment_type.practitioners.filter(pk=practitioner.pk).exists()
        and practitioner.locations.filter(pk=location.pk).exists()
    ):
        raise NotBookable(
            _("This practitioner does not offer this appointment there."),
            fields={"practitioner": [_("Choose another practitioner.")]},
        )
    if not lead_may_book(
        lead, appointment_type, location=location, starts_at=starts_at
    ):
        raise NotBookable(
            _("This treatment cannot be booked online for you yet."),
            fields={"appointment_type": [_("A coordinator will contact you.")]},
        )


def _place(
    booking: Booking,
    practitioner: Practitioner,
    location: Location,
    starts_at: dt.datetime,
) -> None:
    """Put `booking` at `starts_at` with `practitioner` at `location`, inside the
    transaction that saves it: SlotTaken unless that is one of the free times
    offered (its own old time counts as free).

    The practitioner's row is locked first: people booking the same practitioner
    at once take turns, and each after the first finds the time taken by the
    service's own check, at once, instead of waiting for the exclusion constraint
    to fail it (seconds, as deadlocks, under a crowd: bench/slots.py)."""
    list(Practitioner.objects.select_for_update().filter(pk=practitioner.pk))
    kind = booking.appointment_type
    offered = practitioner_free_slots(
        practitioner=practitioner,
        location=location,
        appointment_type=kind,
        now=timezone.now(),
        until=starts_at + dt.timedelta(minutes=1),
        moving=booking if booking.pk else None,
        # A course's later sessions lie beyond the horizon of a first booking.
        horizon=course_horizon(kind) if booking.session_number > 1 else None,
    )
    if starts_at not in {slot.start for slot in offered}:
        raise SlotTaken(
            _("This time is no longer free."),
            fields={"starts_at": [_("Choose one of the times offered.")]},
        )
    booking.practitioner = practitioner
    booking.location = location
    booking.starts_at = starts_at
    booking.ends_at = starts_at + dt.timedelta(minutes=kind.duration_minutes)
    booking.blocked_from = starts_at - dt.timedelta(minutes=kind.buffer_before_minutes)
    booking.blocked_until = booking.ends_at + dt.timedelta(
        minutes=kind.buffer_after_minutes
    )
    if connection.vendor != "postgresql" and _overlaps(booking):
        # SQLite (make run) serialises writes; PostgreSQL's constraint decides.
        raise SlotTaken(_("Someone has just booked this time."))


@contextmanager
def _slot_taken_on_overlap() -> Iterator[None]:
    """The exclusion constraint's refusal, as the SlotTaken the caller expects.

    Two overlapping bookings written at once can each wait for the other while the
    constraint checks them; PostgreSQL then ends one as a deadlock (40P01). They
    overlap, so one of them had to lose: that one is told the time is taken.
    """
    try:
        yield
    except IntegrityError as error:
        if NO_DOUBLE_BOOKING not in str(error):
            raise
        raise SlotTaken(_("Someone has just booked this time.")) from error
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != DEADLOCK:
            raise
        raise SlotTaken(_("Someone has just booked this time.")) from error


def _lock(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("lead", "appointment_type", "practitioner", "location")
        .get(pk=booking.pk)
    )


def _lock_active(booking: Booking) -> Booking:
    locked = _lock(booking)
    if locked.status == Booking.Status.CANCELLED:
        raise BookingCancelled(_("This booking was cancelled."))
    return locked


def _check_change_allowed(booking: Booking) -> None:
    if not booking_may_change(booking, now=timezone.now()):
        raise ChangeTooLate(
            _(
                "This appointment is too close to change online. Please call "
                "%(location)s."
            )
            % {"location": booking.location.name_in(get_language() or "en")}
        )


def _overlaps(booking: Booking) -> bool:
    """The check the exclusion constraint makes, for SQLite's serialised writes."""
    return (
        Booking.objects.exclude(status=Booking.Status.CANCELLED)
        .exclude(pk=booking.pk or 0)
        .filter(
            practitioner=booking.practitioner,
            blocked_from__lt=booking.blocked_until,
            blocked_until__gt=booking.blocked_from,
        )
        .exists()
    )


def _digest(booking: Booking) -> BookingDigest:
    return BookingDigest(
        code=booking.code,
        treatment=booking.appointment_type.treatment,
        appointment=booking.appointment_type.name_en,
        practitioner=booking.practitioner.display_name,
        location=booking.location.slug,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        routing=booking.routing,
    )
