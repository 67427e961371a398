"""Reads for booking: what a lead may book, and a practitioner's free times.

The database gives the rows (weekly hours, exceptions, holidays, bookings) in a
fixed number of queries; booking.slots, pure, does the time arithmetic.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from booking.models import (
    AppointmentType,
    AvailabilityException,
    Booking,
    Holiday,
    WeeklyAvailability,
)
from booking.slots import Interval, SlotRules, Window, free_slots
from clinics.models import Location, Practitioner
from core.zones import clinic_zone
from intake.screening.results import Outcome
from intake.selectors.submissions import person_youngest_age
from leads.models import Lead
from leads.selectors import (
    lead_submission_ids,
    lead_treatment_cleared,
    lead_treatment_outcome,
)

# Injectable and energy-based treatments: never self-booked by someone under 18,
# whatever a physician cleared (screening's under_18 rule, SCREENING.md "Everyone");
# a coordinator arranges them with the guardian.
NOT_FOR_MINORS = frozenset({"mesotherapy", "laser_ipl", "radiofrequency", "prp"})
ADULT_AGE = 18


def lead_may_book(lead: Lead, appointment_type: AppointmentType) -> bool:
    """The safety rule: the treatment's effective outcome on the lead is eligible
    (a physician's clearing makes a reviewed one eligible; contraindicated and
    deferred never are); where the appointment type asks for it, a physician has
    cleared it; and nobody under 18 books an injectable or energy-based one."""
    treatment = appointment_type.treatment
    if lead_treatment_outcome(lead=lead, treatment=treatment) != Outcome.ELIGIBLE:
        return False
    if appointment_type.requires_physician_clearance and not lead_treatment_cleared(
        lead=lead, treatment=treatment
    ):
        return False
    if treatment in NOT_FOR_MINORS:
        age = person_youngest_age(
            submission_ids=lead_submission_ids(lead=lead), on=timezone.localdate()
        )
        if age is None or age < ADULT_AGE:
            return False
    return True


def slot_rules(appointment_type: AppointmentType) -> SlotRules:
    return SlotRules(
        duration=dt.timedelta(minutes=appointment_type.duration_minutes),
        buffer_before=dt.timedelta(minutes=appointment_type.buffer_before_minutes),
        buffer_after=dt.timedelta(minutes=appointment_type.buffer_after_minutes),
        min_notice=dt.timedelta(hours=appointment_type.min_notice_hours),
        horizon=dt.timedelta(days=appointment_type.horizon_days),
    )


def practitioner_free_slots(
    *,
    practitioner: Practitioner,
    location: Location,
    appointment_type: AppointmentType,
    now: dt.datetime,
    until: dt.datetime | None = None,
) -> list[Interval]:
    """The times `appointment_type` can be booked with `practitioner` at
    `location`, from `now` up to the type's horizon (or `until`), in UTC.

    Four queries whatever the number of days, hours and bookings.
    """
    rules = slot_rules(appointment_type)
    last = until or now + rules.horizon
    weekly: dict[int, list[Window]] = defaultdict(list)
    for row in WeeklyAvailability.objects.filter(
        practitioner=practitioner, location=location
    ):
        weekly[row.weekday].append(Window(row.starts, row.ends))
    exceptions: dict[dt.date, list[Window]] = defaultdict(list)
    for exception in AvailabilityException.objects.filter(
        practitioner=practitioner,
        location=location,
        day__gte=now.date() - dt.timedelta(days=1),
        day__lte=last.date() + dt.timedelta(days=1),
    ):
        day = exceptions[exception.day]  # a day away stays an empty list
        if exception.starts is not None and exception.ends is not None:
            day.append(Window(exception.starts, exception.ends))
    holidays = set(
        Holiday.objects.filter(
            location=location,
            day__gte=now.date() - dt.timedelta(days=1),
            day__lte=last.date() + dt.timedelta(days=1),
        ).values_list("day", flat=True)
    )
    busy = [
        Interval(start, end)
        for start, end in Booking.objects.exclude(status=Booking.Status.CANCELLED)
        .filter(
            practitioner=practitioner,
            blocked_until__gt=now,
            blocked_from__lt=last + rules.buffer_before + rules.duration,
        )
        .values_list("blocked_from", "blocked_until")
    ]
    return free_slots(
        zone=clinic_zone(location.time_zone),
        weekly=dict(weekly),
        exceptions=dict(exceptions),
        holidays=holidays,
        busy=busy,
        rules=rules,
        now=now,
        until=until,
    )


@dataclass(frozen=True)
class BookingOption:
    """One appointment type the lead may book now, with one practitioner, at one
    location, and its first free times."""

    appointment_type: AppointmentType
    practitioner: Practitioner
    location: Location
    slots: list[Interval]


def booking_option_list(
    *, lead: Lead, now: dt.datetime, days: int = 7, first: int = 8
) -> list[BookingOption]:
    """What `lead` may book at its location in the next `days` days: each active
    appointment type its screening allows, with each practitioner there who performs
    it and their `first` free times (practitioners with none are left out)."""
    kinds = AppointmentType.objects.filter(is_active=True).prefetch_related(
        "practitioners__locations"
    )
    until = now + dt.timedelta(days=days)
    options = []
    for kind in kinds:
        if not lead_may_book(lead, kind):
            continue
        for practitioner in kind.practitioners.all():
            if (
                not practitioner.is_active
                or lead.location not in practitioner.locations.all()
            ):
                continue
            slots = practitioner_free_slots(
                practitioner=practitioner,
                location=lead.location,
                appointment_type=kind,
                now=now,
                until=until,
            )[:first]
            if slots:
                options.append(BookingOption(kind, practitioner, lead.location, slots))
    return options
