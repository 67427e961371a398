"""Reads for booking: what a lead may book, and a practitioner's free times.

The database gives the rows (weekly hours, exceptions, holidays, bookings) in a
fixed number of queries; booking.slots, pure, does the time arithmetic.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
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
    lead_treatment_outcomes,
    lead_treatments_cleared,
)

# Injectable and energy-based treatments: never self-booked by someone under 18,
# whatever a physician cleared (screening's under_18 rule, SCREENING.md "Everyone");
# a coordinator arranges them with the guardian.
NOT_FOR_MINORS = frozenset({"mesotherapy", "laser_ipl", "radiofrequency", "prp"})
ADULT_AGE = 18


@dataclass(frozen=True)
class BookingGate:
    """What one lead's screening allows, read once (three queries) and asked for
    any number of appointment types."""

    outcomes: Mapping[str, str]
    cleared: frozenset[str]
    age: int | None

    def allows(self, appointment_type: AppointmentType) -> bool:
        """The safety rule: the treatment's effective outcome is eligible (a
        physician's clearing makes a reviewed one eligible; contraindicated and
        deferred never are); where the appointment type asks for it, a physician
        has cleared it; and nobody under 18 books an injectable or energy-based
        one."""
        treatment = appointment_type.treatment
        if self.outcomes.get(treatment) != Outcome.ELIGIBLE:
            return False
        if appointment_type.requires_physician_clearance and (
            treatment not in self.cleared
        ):
            return False
        return treatment not in NOT_FOR_MINORS or (
            self.age is not None and self.age >= ADULT_AGE
        )


def booking_gate(lead: Lead) -> BookingGate:
    return BookingGate(
        outcomes=lead_treatment_outcomes(lead=lead),
        cleared=lead_treatments_cleared(lead=lead),
        age=person_youngest_age(
            submission_ids=lead_submission_ids(lead=lead), on=timezone.localdate()
        ),
    )


def lead_may_book(lead: Lead, appointment_type: AppointmentType) -> bool:
    """Whether `lead` may book `appointment_type` now (BookingGate.allows)."""
    return booking_gate(lead).allows(appointment_type)


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
    last = until or now + slot_rules(appointment_type).horizon
    calendar = _Calendars.load([practitioner.pk], location, now=now, last=last)
    return calendar.free(practitioner.pk, appointment_type, now=now, until=until)


@dataclass(frozen=True)
class _Calendars:
    """The rows free times are made of, for some practitioners at one location over
    one stretch of days: read in four queries, whatever their number."""

    location: Location
    weekly: Mapping[int, Mapping[int, list[Window]]]  # practitioner -> weekday
    exceptions: Mapping[int, Mapping[dt.date, list[Window]]]
    holidays: frozenset[dt.date]
    busy: Mapping[int, list[Interval]]

    @classmethod
    def load(
        cls,
        practitioner_ids: list[int],
        location: Location,
        *,
        now: dt.datetime,
        last: dt.datetime,
    ) -> "_Calendars":
        # A day either side: the location's local days around two UTC instants.
        first_day = now.date() - dt.timedelta(days=1)
        last_day = last.date() + dt.timedelta(days=1)
        weekly: dict[int, dict[int, list[Window]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for row in WeeklyAvailability.objects.filter(
            practitioner_id__in=practitioner_ids, location=location
        ):
            weekly[row.practitioner_id][row.weekday].append(
                Window(row.starts, row.ends)
            )
        exceptions: dict[int, dict[dt.date, list[Window]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for exception in AvailabilityException.objects.filter(
            practitioner_id__in=practitioner_ids,
            location=location,
            day__gte=first_day,
            day__lte=last_day,
        ):
            day = exceptions[exception.practitioner_id][exception.day]  # away: []
            if exception.starts is not None and exception.ends is not None:
                day.append(Window(exception.starts, exception.ends))
        holidays = frozenset(
            Holiday.objects.filter(
                location=location, day__gte=first_day, day__lte=last_day
            ).values_list("day", flat=True)
        )
        busy: dict[int, list[Interval]] = defaultdict(list)
        # Bookings at any location: a practitioner is in one place at a time.
        for practitioner_id, start, end in (
            Booking.objects.exclude(status=Booking.Status.CANCELLED)
            .filter(
                practitioner_id__in=practitioner_ids,
                blocked_until__gt=now,
                blocked_from__lt=last + dt.timedelta(days=1),
            )
            .values_list("practitioner_id", "blocked_from", "blocked_until")
        ):
            busy[practitioner_id].append(Interval(start, end))
        return cls(location, weekly, exceptions, holidays, busy)

    def free(
        self,
        practitioner_id: int,
        appointment_type: AppointmentType,
        *,
        now: dt.datetime,
        until: dt.datetime | None,
    ) -> list[Interval]:
        return free_slots(
            zone=clinic_zone(self.location.time_zone),
            weekly=dict(self.weekly.get(practitioner_id, {})),
            exceptions=dict(self.exceptions.get(practitioner_id, {})),
            holidays=self.holidays,
            busy=self.busy.get(practitioner_id, []),
            rules=slot_rules(appointment_type),
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
    it and their `first` free times (practitioners with none are left out).

    A fixed number of queries, however many types, practitioners and bookings.
    """
    gate = booking_gate(lead)
    until = now + dt.timedelta(days=days)
    pairs = [
        (kind, practitioner)
        for kind in AppointmentType.objects.filter(is_active=True).prefetch_related(
            "practitioners__locations"
        )
        if gate.allows(kind)
        for practitioner in kind.practitioners.all()
        if practitioner.is_active and lead.location in practitioner.locations.all()
    ]
    if not pairs:
        return []
    calendars = _Calendars.load(
        sorted({practitioner.pk for _, practitioner in pairs}),
        lead.location,
        now=now,
        last=until,
    )
    options = []
    for kind, practitioner in pairs:
        slots = calendars.free(practitioner.pk, kind, now=now, until=until)[:first]
        if slots:
            options.append(BookingOption(kind, practitioner, lead.location, slots))
    return options
