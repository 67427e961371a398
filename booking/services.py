"""Making a booking: checked against the lead's screening, refused by the database
when the time is taken, and handed to the lead in the same transaction."""

import datetime as dt

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.models import NO_DOUBLE_BOOKING, AppointmentType, Booking
from booking.selectors import lead_may_book, practitioner_free_slots
from clinics.models import Location, Practitioner
from core.errors import BusinessError
from leads.models import Lead
from leads.services.bookings import BookingDigest, lead_booking_record


class SlotTaken(BusinessError):
    code = "slot_taken"
    status_code = 409


class NotBookable(BusinessError):
    code = "not_bookable"
    status_code = 403


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
    practitioner does not perform it; SlotTaken when the time is not one of the free
    times offered (outside working hours, notice or horizon), or, with its buffers,
    overlaps another booking of the practitioner (on PostgreSQL the exclusion
    constraint decides that, so two requests at once cannot both win).
    """
    if not appointment_type.practitioners.filter(pk=practitioner.pk).exists():
        raise NotBookable(
            _("This practitioner does not offer this appointment."),
            fields={"practitioner": [_("Choose another practitioner.")]},
        )
    if not lead_may_book(lead, appointment_type):
        raise NotBookable(
            _("This treatment cannot be booked online for you yet."),
            fields={"appointment_type": [_("A coordinator will contact you.")]},
        )
    offered = practitioner_free_slots(
        practitioner=practitioner,
        location=location,
        appointment_type=appointment_type,
        now=timezone.now(),
        until=starts_at + dt.timedelta(minutes=1),
    )
    if starts_at not in {slot.start for slot in offered}:
        raise SlotTaken(
            _("This time is no longer free."),
            fields={"starts_at": [_("Choose one of the times offered.")]},
        )
    ends_at = starts_at + dt.timedelta(minutes=appointment_type.duration_minutes)
    booking = Booking(
        lead=lead,
        appointment_type=appointment_type,
        practitioner=practitioner,
        location=location,
        starts_at=starts_at,
        ends_at=ends_at,
        blocked_from=starts_at
        - dt.timedelta(minutes=appointment_type.buffer_before_minutes),
        blocked_until=ends_at
        + dt.timedelta(minutes=appointment_type.buffer_after_minutes),
        booked_by=booked_by,
    )
    try:
        with transaction.atomic():
            if connection.vendor != "postgresql" and _overlaps(booking):
                raise SlotTaken(_("Someone has just booked this time."))
            booking.save()
            lead_booking_record(
                lead=lead,
                booking=_digest(booking),
                change="created",
                actor=booked_by,
            )
    except IntegrityError as error:
        if NO_DOUBLE_BOOKING not in str(error):
            raise
        raise SlotTaken(_("Someone has just booked this time.")) from error
    return booking


def _overlaps(booking: Booking) -> bool:
    """The check the exclusion constraint makes, for SQLite's serialised writes."""
    return (
        Booking.objects.exclude(status=Booking.Status.CANCELLED)
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
    )
