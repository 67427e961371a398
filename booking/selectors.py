"""Reads for booking: a practitioner's free times for an appointment type.

The database gives the rows (weekly hours, exceptions, holidays, bookings) in a
fixed number of queries; booking.slots, pure, does the time arithmetic.
"""

import datetime as dt
from collections import defaultdict

from booking.models import (
    AppointmentType,
    AvailabilityException,
    Booking,
    Holiday,
    WeeklyAvailability,
)
from booking.slots import Interval, SlotRules, Window, free_slots
from booking.zones import clinic_zone
from clinics.models import Location, Practitioner


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
