"""Outbox rows of two tables, written as they are stored, for the backlog's tests."""

import datetime as dt

from django.utils import timezone

from booking.models import AppointmentType, Booking, CalendarSync, PractitionerCalendar
from clinics.models import Location, Practitioner
from core.models import DeliveryStatus
from leads.models import StaffNotification
from tests.support.factories import LeadFactory, StaffUserFactory


def staff_notification_make(
    *, age: dt.timedelta, status: str = DeliveryStatus.PENDING
) -> StaffNotification:
    """An email to a staff member about a new lead, written `age` ago."""
    return StaffNotification.objects.create(
        recipient=StaffUserFactory.create(),
        lead=LeadFactory.create(),
        kind=StaffNotification.Kind.ASSIGNED,
        status=status,
        created_at=timezone.now() - age,
    )


def calendar_sync_make(location: Location, *, age: dt.timedelta) -> CalendarSync:
    """A booking's change on its way to the practitioner's CalDAV calendar."""
    starts_at = timezone.now() + dt.timedelta(days=2)
    practitioner = Practitioner.objects.create(
        display_name="Dr. Sync", kind=Practitioner.Kind.PHYSICIAN
    )
    booking = Booking.objects.create(
        lead=LeadFactory.create(location=location),
        appointment_type=AppointmentType.objects.create(
            name_en="Session",
            name_tr="Seans",
            treatment="mesotherapy",
            duration_minutes=30,
        ),
        practitioner=practitioner,
        location=location,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        blocked_from=starts_at,
        blocked_until=starts_at + dt.timedelta(minutes=30),
    )
    calendar = PractitionerCalendar.objects.create(
        practitioner=practitioner, kind=PractitionerCalendar.Kind.CALDAV
    )
    return CalendarSync.objects.create(
        booking=booking,
        calendar=calendar,
        sequence=0,
        created_at=timezone.now() - age,
    )
