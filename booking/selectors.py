"""Reads for booking: what a lead may book, and a practitioner's free times.

The database gives the rows (weekly hours, exceptions, holidays, bookings) in a
fixed number of queries; booking.slots, pure, does the time arithmetic.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from django.utils import timezone

from booking.calendar_selectors import booking_list_with_sync_pending
from booking.models import (
    AppointmentType,
    AvailabilityException,
    Booking,
    CalendarBusy,
    Holiday,
    WeeklyAvailability,
)
from booking.slots import Interval, SlotRules, Window, free_slots
from clinics.models import Location, Practitioner
from core.config_cache import config_cached
from core.zones import clinic_zone
from intake.screening.results import Outcome
from leads.models import Lead
from leads.selectors import (
    TreatmentStanding,
    lead_treatment_outcomes,
    lead_treatments_cleared,
    lead_youngest_age,
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

    treatments: Mapping[str, TreatmentStanding]
    cleared: frozenset[str]
    age: int | None

    def opens_on(self, appointment_type: AppointmentType) -> dt.date | None:
        """The first local day `appointment_type` may be booked (date.min: any
        day), or None when it may not be self-booked at all.

        The safety rule: the treatment's effective outcome is eligible (a
        physician's clearing makes a reviewed one eligible; contraindicated never
        is), or deferred with an end date, from that date on; where the
        appointment type asks for it, a physician has cleared it; and nobody under
        18 books an injectable or energy-based one."""
        treatment = appointment_type.treatment
        standing = self.treatments.get(treatment)
        if standing is None:
            return None
        if standing.outcome == Outcome.ELIGIBLE:
            opens = dt.date.min
        elif standing.outcome == Outcome.DEFERRED and standing.bookable_from:
            opens = standing.bookable_from
        else:
            return None
        if appointment_type.requires_physician_clearance and (
            treatment not in self.cleared
        ):
            return None
        if treatment in NOT_FOR_MINORS and (self.age is None or self.age < ADULT_AGE):
            return None
        return opens

    def allows(self, appointment_type: AppointmentType, *, on: dt.date) -> bool:
        """Whether `appointment_type` may be booked for local day `on`."""
        opens = self.opens_on(appointment_type)
        return opens is not None and opens <= on


def booking_gate(lead: Lead) -> BookingGate:
    return BookingGate(
        treatments=lead_treatment_outcomes(lead=lead),
        cleared=lead_treatments_cleared(lead=lead),
        age=lead_youngest_age(lead=lead, on=timezone.localdate()),
    )


def lead_may_book(
    lead: Lead,
    appointment_type: AppointmentType,
    *,
    location: Location,
    starts_at: dt.datetime,
) -> bool:
    """Whether `lead` may book `appointment_type` at `location` for `starts_at`
    (BookingGate.allows, on that day in the location's time zone)."""
    day = starts_at.astimezone(clinic_zone(location.time_zone)).date()
    return booking_gate(lead).allows(appointment_type, on=day)


def lead_booking_list_upcoming(*, lead: Lead, now: dt.datetime) -> list[Booking]:
    """The lead's confirmed bookings still to come, soonest first."""
    return list(
        Booking.objects.filter(
            lead=lead, status=Booking.Status.CONFIRMED, ends_at__gt=now
        ).select_related("appointment_type", "practitioner", "location")
    )


def lead_booking_list(*, lead: Lead) -> list[Booking]:
    """Every booking of the lead, newest appointment first, each with
    `sync_pending` (still waiting to reach a CalDAV calendar)."""
    return list(
        booking_list_with_sync_pending(
            Booking.objects.filter(lead=lead).order_by("-starts_at", "-id")
        ).select_related("appointment_type", "practitioner", "location")
    )


def booking_may_change(booking: Booking, *, now: dt.datetime) -> bool:
    """Whether the patient may still move or cancel `booking` themselves: it is
    confirmed and more than its appointment type's change notice away."""
    notice = dt.timedelta(hours=booking.appointment_type.change_notice_hours)
    return booking.status == Booking.Status.CONFIRMED and booking.starts_at - now > (
        notice
    )


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
    moving: Booking | None = None,
    horizon: dt.timedelta | None = None,
) -> list[Interval]:
    """The times `appointment_type` can be booked with `practitioner` at
    `location`, from `now` up to the type's horizon (or `horizon`, or `until`),
    in UTC; with `moving`, the times that booking may move to (its own time is
    free to it).

    A fixed number of queries whatever the number of days, hours and bookings.
    """
    last = until or now + (horizon or slot_rules(appointment_type).horizon)
    calendar = _Calendars.load(
        [practitioner.pk],
        [location],
        now=now,
        last=last,
        moving=moving.pk if moving else None,
    )
    return calendar.free(
        practitioner.pk,
        location,
        appointment_type,
        now=now,
        until=until,
        horizon=horizon,
    )


@dataclass(frozen=True)
class _Calendars:
    """The rows free times are made of, for some practitioners at some locations
    over one stretch of days: read in a fixed number of queries, whatever their
    number."""

    # (practitioner, location) -> weekday -> windows; and -> day -> windows
    weekly: Mapping[tuple[int, int], Mapping[int, list[Window]]]
    exceptions: Mapping[tuple[int, int], Mapping[dt.date, list[Window]]]
    holidays: Mapping[int, frozenset[dt.date]]  # location -> days
    busy: Mapping[int, list[Interval]]  # practitioner -> busy, at any location

    @classmethod
    def load(
        cls,
        practitioner_ids: list[int],
        locations: list[Location],
        *,
        now: dt.datetime,
        last: dt.datetime,
        moving: int | None = None,
    ) -> "_Calendars":
        """`moving`: a booking being moved, whose own time counts as free."""
        # A day either side: the location's local days around two UTC instants.
        first_day = now.date() - dt.timedelta(days=1)
        last_day = last.date() + dt.timedelta(days=1)
        wanted = set(practitioner_ids)
        places = {location.pk for location in locations}
        working = config_cached(
            "working time", lambda: _working_time(first_day), variant=first_day
        )
        weekly: dict[tuple[int, int], dict[int, list[Window]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for row in working.weekly:
            if row.practitioner_id in wanted and row.location_id in places:
                weekly[row.practitioner_id, row.location_id][row.weekday].append(
                    Window(row.starts, row.ends)
                )
        exceptions: dict[tuple[int, int], dict[dt.date, list[Window]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for exception in working.exceptions:
            if (
                exception.practitioner_id not in wanted
                or exception.location_id not in places
                or exception.day > last_day
            ):
                continue
            day = exceptions[exception.practitioner_id, exception.location_id][
                exception.day
            ]  # away: []
            if exception.starts is not None and exception.ends is not None:
                day.append(Window(exception.starts, exception.ends))
        holidays: dict[int, set[dt.date]] = defaultdict(set)
        for location_id, holiday in working.holidays:
            if location_id in places and holiday <= last_day:
                holidays[location_id].add(holiday)
        busy: dict[int, list[Interval]] = defaultdict(list)
        # Bookings at any location: a practitioner is in one place at a time.
        for practitioner_id, start, end in (
            Booking.objects.exclude(status=Booking.Status.CANCELLED)
            .exclude(pk=moving or 0)
            .filter(
                practitioner_id__in=practitioner_ids,
                blocked_until__gt=now,
                blocked_from__lt=last + dt.timedelta(days=1),
            )
            .values_list("practitioner_id", "blocked_from", "blocked_until")
        ):
            busy[practitioner_id].append(Interval(start, end))
        # Busy time read from the practitioners' own calendars (CalDAV).
        for practitioner_id, start, end in CalendarBusy.objects.filter(
            practitioner_id__in=practitioner_ids,
            ends_at__gt=now,
            starts_at__lt=last + dt.timedelta(days=1),
        ).values_list("practitioner_id", "starts_at", "ends_at"):
            busy[practitioner_id].append(Interval(start, end))
        return cls(
            weekly,
            exceptions,
            {location: frozenset(days) for location, days in holidays.items()},
            busy,
        )

    def free(
        self,
        practitioner_id: int,
        location: Location,
        appointment_type: AppointmentType,
        *,
        now: dt.datetime,
        until: dt.datetime | None,
        since: dt.datetime | None = None,
        horizon: dt.timedelta | None = None,
    ) -> list[Interval]:
        """`horizon`: instead of the appointment type's (a course's later
        sessions lie beyond it)."""
        key = (practitioner_id, location.pk)
        rules = slot_rules(appointment_type)
        if horizon is not None:
            rules = replace(rules, horizon=horizon)
        return free_slots(
            zone=clinic_zone(location.time_zone),
            weekly=dict(self.weekly.get(key, {})),
            exceptions=dict(self.exceptions.get(key, {})),
            holidays=self.holidays.get(location.pk, frozenset()),
            busy=self.busy.get(practitioner_id, []),
            rules=rules,
            now=now,
            until=until,
            since=since,
        )


def _first_bookable(
    since: dt.datetime, opens: dt.date | None, location: Location
) -> dt.datetime:
    """`since`, or the start of local day `opens` at `location` when later."""
    if opens is None or opens <= since.date() - dt.timedelta(days=1):
        return since
    zone = clinic_zone(location.time_zone)
    return max(since, dt.datetime.combine(opens, dt.time(), tzinfo=zone))


class Routing(StrEnum):
    """How far routing went to find a practitioner, nearest first."""

    LANGUAGE = "language"  # at the person's location, speaking their language
    ANY_LANGUAGE = "any_language"  # at their location, in another language
    OTHER_LOCATION = "other_location"  # at another of the clinic's locations


def routing_of(
    *, lead: Lead, practitioner: Practitioner, location: Location
) -> Routing:
    """Which routing step booking `practitioner` at `location` is for `lead`."""
    if location.pk != lead.location_id:
        return Routing.OTHER_LOCATION
    if lead.preferred_language in practitioner.languages:
        return Routing.LANGUAGE
    return Routing.ANY_LANGUAGE


@dataclass(frozen=True)
class BookingOption:
    """One appointment type the lead may book now, with one practitioner, at one
    location, and its first free times."""

    appointment_type: AppointmentType
    practitioner: Practitioner
    location: Location
    routing: Routing
    slots: list[Interval]


@dataclass(frozen=True)
class _WorkingTime:
    """Every practitioner's working week, and the days off and holidays from a
    day on: configuration that changes when staff edit it (core.config_cache)."""

    weekly: list[WeeklyAvailability]
    exceptions: list[AvailabilityException]
    holidays: list[tuple[int, dt.date]]  # (location id, day)


def _working_time(first_day: dt.date) -> _WorkingTime:
    return _WorkingTime(
        weekly=list(WeeklyAvailability.objects.all()),
        exceptions=list(AvailabilityException.objects.filter(day__gte=first_day)),
        holidays=list(
            Holiday.objects.filter(day__gte=first_day).values_list("location_id", "day")
        ),
    )


def booking_option_list(
    *,
    lead: Lead,
    now: dt.datetime,
    days: int = 7,
    first: int = 8,
    since: dt.datetime | None = None,
    moving: Booking | None = None,
    gate: BookingGate | None = None,
) -> list[BookingOption]:
    """What `lead` may book in the next `days` days (from `since`, when later than
    `now`): each active appointment type its screening allows, with the
    practitioners who perform it and their `first` free times (practitioners with
    none are left out). With `moving`, the times that booking may move to;
    `gate`: the lead's booking_gate, when the caller has read it already.

    Routing, per appointment type: the practitioners at the lead's location who
    speak the person's language; when none of them has a free time, any language
    there; then the clinic's other locations (their language first).

    A fixed number of queries, however many types, practitioners and bookings.
    """
    kinds = config_cached(
        "active appointment types",
        lambda: list(
            AppointmentType.objects.filter(is_active=True).prefetch_related(
                "practitioners__locations"
            )
        ),
    )
    if not kinds:
        return []
    gate = gate or booking_gate(lead)
    since = max(since or now, now)
    opens = {kind: gate.opens_on(kind) for kind in kinds}
    candidates = {
        kind: sorted(
            (
                (
                    routing_of(lead=lead, practitioner=who, location=where),
                    lead.preferred_language not in who.languages,
                    who,
                    where,
                )
                for who in kind.practitioners.all()
                if who.is_active
                for where in who.locations.all()
                if where.is_active
            ),
            key=lambda option: (option[0] != Routing.LANGUAGE, option[0], option[1]),
        )
        for kind in kinds
        if opens[kind] is not None
    }
    # Each type's days start where the person may book it: now, or on the day a
    # deferral ends, in the location's time zone.
    starts = {
        (kind, where): _first_bookable(since, opens[kind], where)
        for kind, options in candidates.items()
        for _, _, _, where in options
    }
    if not starts:
        return []
    span = dt.timedelta(days=days)
    # A course's later session moves within the course's reach, not the horizon.
    horizon = (
        course_horizon(moving.appointment_type)
        if moving is not None and moving.session_number > 1
        else None
    )
    calendars = _Calendars.load(
        sorted({who.pk for options in candidates.values() for _, _, who, _ in options}),
        list({where.pk: where for _, where in starts}.values()),
        now=now,
        # No further than the longest horizon: no slot lies beyond it.
        last=min(
            max(starts.values()) + span,
            now + max(horizon or slot_rules(kind).horizon for kind in candidates),
        ),
        moving=moving.pk if moving else None,
    )
    found: list[BookingOption] = []
    for kind, options in candidates.items():
        for step in Routing:
            step_found = [
                BookingOption(kind, who, where, routing, slots[:first])
                for routing, _, who, where in options
                if routing == step
                and (
                    slots := calendars.free(
                        who.pk,
                        where,
                        kind,
                        now=now,
                        until=(start := starts[kind, where]) + span,
                        since=start,
                        horizon=horizon,
                    )
                )
            ]
            if step_found:
                found.extend(step_found)
                break
    return found


# -- Courses -----------------------------------------------------------------------

# How far either side of its spacing a later session of a course may fall.
COURSE_SLACK_DAYS = 3


def course_horizon(appointment_type: AppointmentType) -> dt.timedelta:
    """How far ahead a course's sessions may be booked: the type's horizon for the
    first, then the course's span, and a week to spare."""
    return dt.timedelta(
        days=appointment_type.horizon_days
        + appointment_type.course_sessions * appointment_type.course_spacing_days
        + 7
    )


def course_sessions_booked(first: Booking) -> dict[int, Booking]:
    """The confirmed sessions of the course `first` starts, by session number."""
    return {
        session.session_number: session
        for session in Booking.objects.filter(
            course_first=first, status=Booking.Status.CONFIRMED
        ).order_by("starts_at")
    }


def course_open(*, lead: Lead, appointment_type: AppointmentType) -> Booking | None:
    """The first session of the lead's course of `appointment_type` that still
    misses sessions, or None: a further booking of that type joins it."""
    if appointment_type.course_sessions < 2:
        return None
    for first in Booking.objects.filter(
        lead=lead,
        appointment_type=appointment_type,
        status=Booking.Status.CONFIRMED,
        session_number=1,
    ).order_by("-starts_at"):
        if len(course_sessions_booked(first)) < appointment_type.course_sessions:
            return first
    return None


@dataclass(frozen=True)
class CourseSession:
    """A session of a course still to book: where the spacing puts it, and the
    free time nearest to that (None: none within the slack days)."""

    number: int
    target: dt.datetime
    starts_at: dt.datetime | None


def course_rest_propose(first: Booking, *, now: dt.datetime) -> list[CourseSession]:
    """The course's sessions not booked yet, each proposed at the free time of the
    first session's practitioner and place nearest to the first's weekday and
    clock time, its spacing apart, beyond the type's usual horizon. Empty for a
    single session or a complete course.

    A fixed number of queries however long the course.
    """
    kind = first.appointment_type
    booked = course_sessions_booked(first)
    missing = [n for n in range(2, kind.course_sessions + 1) if n not in booked]
    if first.status != Booking.Status.CONFIRMED or not missing:
        return []
    zone = clinic_zone(first.location.time_zone)
    anchor = first.starts_at.astimezone(zone)
    slack = dt.timedelta(
        days=max(0, min(COURSE_SLACK_DAYS, (kind.course_spacing_days - 1) // 2))
    )
    targets = {
        n: dt.datetime.combine(
            anchor.date() + dt.timedelta(days=(n - 1) * kind.course_spacing_days),
            anchor.time(),
            tzinfo=zone,
        )
        for n in missing
    }
    calendars = _Calendars.load(
        [first.practitioner_id],
        [first.location],
        now=now,
        last=max(targets.values()) + slack + dt.timedelta(days=2),
    )
    horizon = course_horizon(kind)
    proposed = []
    for number, target in targets.items():
        # The local days target ± slack: apart from the other sessions' days.
        first_day = dt.datetime.combine(target.date() - slack, dt.time(), tzinfo=zone)
        after_last_day = dt.datetime.combine(
            target.date() + slack + dt.timedelta(days=1), dt.time(), tzinfo=zone
        )
        free = calendars.free(
            first.practitioner_id,
            first.location,
            kind,
            now=now,
            since=max(first_day, now),
            until=after_last_day,
            horizon=horizon,
        )
        nearest = min(free, key=lambda slot: abs(slot.start - target), default=None)
        proposed.append(
            CourseSession(number, target, nearest.start if nearest else None)
        )
    return proposed
