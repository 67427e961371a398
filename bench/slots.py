"""How long four weeks of free slots take with 500 bookings, against none, in one run.

Run `python bench/slots.py [--repeats 7]` with DATABASE_URL pointing at a PostgreSQL
server (the test settings' default). It makes a throwaway database `bench_slots`
with one location (Europe/Istanbul), ten practitioners working there Mon-Sat
09:00-18:00 and one appointment type of 45 minutes plus 15 after, and one eligible
lead. It times the lead's booking options over 28 days (`booking_option_list`, what
the staff API and the patient's booking page call) and its two halves: reading the
ten calendars (`_Calendars.load`) and the pure slot engine (`free` for each). The
baseline is the same window with no bookings; every repeat measures it, then the
window with 500 bookings, so both share the machine's mood. Figures are medians of
the repeats. Exits non-zero when a computation's query count differs between the
two windows or exceeds its pinned number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
# Making the lead schedules messages on commit: keep them in this process rather
# than queue them on the test suite's Redis broker.
os.environ["CELERY_BROKER_URL"] = "memory://"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
)
from django.utils import timezone  # noqa: E402

from booking.models import AppointmentType, Booking, WeeklyAvailability  # noqa: E402
from booking.selectors import _Calendars, booking_option_list  # noqa: E402
from clinics.models import Location, Practitioner  # noqa: E402
from core.zones import clinic_zone  # noqa: E402
from intake.models import QuestionnaireVersion  # noqa: E402
from leads.models import Lead  # noqa: E402
from tests.support.factories import LocationFactory  # noqa: E402
from tests.support.submitting import lead_of, submit  # noqa: E402

ZONE = "Europe/Istanbul"
PRACTITIONERS = 10
WORKDAYS = range(6)  # Monday to Saturday
OPENS, CLOSES = dt.time(9), dt.time(18)
DURATION, BUFFER_AFTER = 45, 15  # minutes
DAYS = 28
BOOKINGS = 500
CALLS = 3  # per repeat, averaged

# Queries per computation now; a change either way should be a decision. The
# options: the appointment types with their practitioners and those practitioners'
# locations (3), the lead's screening gate (3: outcomes, clearings, age), then the
# calendars. The calendars: weekly hours, exceptions, holidays, bookings (4).
PINNED_QUERIES = {"options": 10, "load": 4, "free": 0}

Timed = tuple[float, int]  # (ms per call, queries per call)


def next_monday() -> dt.datetime:
    """Midnight at the location on the first Monday after today, in UTC."""
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    local = dt.datetime.combine(monday, dt.time(0), tzinfo=clinic_zone(ZONE))
    return local.astimezone(dt.UTC)


def measure(operation: Callable[[], object]) -> Timed:
    """Wall ms per call (the mean of CALLS) and the SQL queries of one call."""
    with CaptureQueriesContext(connection) as queries:
        operation()
    started = time.perf_counter()
    for _ in range(CALLS):
        operation()
    return (time.perf_counter() - started) / CALLS * 1000, len(queries)


def clinic_create() -> tuple[Lead, Location, AppointmentType, list[Practitioner]]:
    """The location, its ten practitioners and their week, the appointment type, and
    a lead eligible for it (the shipped questionnaire, low-risk answers)."""
    location = LocationFactory.create(slug="nisantasi", time_zone=ZONE)
    call_command("load_intake_definitions", verbosity=0)
    lead = lead_of(submit(QuestionnaireVersion.objects.get(status="published")))
    kind = AppointmentType.objects.create(
        name_en="Mesotherapy session",
        name_tr="Mezoterapi seansı",
        treatment="mesotherapy",
        duration_minutes=DURATION,
        buffer_after_minutes=BUFFER_AFTER,
        min_notice_hours=0,  # the four weeks from midnight, whole
        horizon_days=DAYS,
    )
    practitioners = [
        Practitioner.objects.create(
            display_name=f"Dr. {n}",
            kind=Practitioner.Kind.PHYSICIAN,
            # The lead's language: routing stops at its first step with all ten.
            languages=[lead.preferred_language],
        )
        for n in range(PRACTITIONERS)
    ]
    for practitioner in practitioners:
        practitioner.locations.add(location)
    WeeklyAvailability.objects.bulk_create(
        WeeklyAvailability(
            practitioner=practitioner,
            location=location,
            weekday=weekday,
            starts=OPENS,
            ends=CLOSES,
        )
        for practitioner in practitioners
        for weekday in WORKDAYS
    )
    kind.practitioners.add(*practitioners)
    return lead, location, kind, practitioners


def bookings_build(
    *,
    lead: Lead,
    location: Location,
    kind: AppointmentType,
    practitioners: list[Practitioner],
    now: dt.datetime,
) -> list[Booking]:
    """BOOKINGS bookings, as many per practitioner, at whole hours of the working
    days in the window picked at random (seeded): never overlapping, buffers
    included, as the exclusion constraint demands."""
    rng = random.Random(7)  # noqa: S311 - test data, not secrets
    zone = clinic_zone(ZONE)
    first = now.astimezone(zone).date()
    days = [
        day
        for day in (first + dt.timedelta(days=n) for n in range(DAYS))
        if day.weekday() in WORKDAYS
    ]
    hours = range(OPENS.hour, CLOSES.hour)  # an hour each: 45 minutes and 15 after
    bookings = []
    for n, practitioner in enumerate(practitioners):
        share = BOOKINGS // len(practitioners) + (n < BOOKINGS % len(practitioners))
        for position in rng.sample(range(len(days) * len(hours)), share):
            day, hour = divmod(position, len(hours))
            starts_at = dt.datetime.combine(
                days[day], dt.time(hours[hour]), tzinfo=zone
            ).astimezone(dt.UTC)
            ends_at = starts_at + dt.timedelta(minutes=DURATION)
            bookings.append(
                Booking(
                    lead=lead,
                    appointment_type=kind,
                    practitioner=practitioner,
                    location=location,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    blocked_from=starts_at,  # no buffer before
                    blocked_until=ends_at + dt.timedelta(minutes=BUFFER_AFTER),
                )
            )
    return bookings


def bookings_delete() -> None:
    """Every booking, in one statement: the bench made them all, and nothing else
    points at them (no emails, no courses) for the ORM's collector to look for."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM booking_booking")


def vacuum_analyze() -> None:
    """Bookings as a settled table would have them: no dead rows, fresh statistics."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE booking_booking")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    if connection.vendor != "postgresql":
        sys.exit("Point DATABASE_URL at PostgreSQL: the numbers are about its plans.")
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = "bench_slots"
    # No serialized copy of the empty database: nothing here restores one.
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False
    )
    try:
        problems = run(repeats)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    if problems:
        sys.exit("\n".join(problems))


def run(repeats: int) -> list[str]:
    """Print the table; return what breaks the query pins."""
    lead, location, kind, practitioners = clinic_create()
    ids = [practitioner.pk for practitioner in practitioners]
    now = next_monday()
    until = now + dt.timedelta(days=DAYS)
    bookings = bookings_build(
        lead=lead, location=location, kind=kind, practitioners=practitioners, now=now
    )

    def load() -> _Calendars:
        return _Calendars.load(ids, [location], now=now, last=until)

    def free(calendars: _Calendars) -> int:
        return sum(
            len(calendars.free(pk, location, kind, now=now, until=until)) for pk in ids
        )

    def window() -> tuple[dict[str, Timed], int, int]:
        """The three computations, the options offered and the free starts."""
        calendars = load()
        timed = {
            "options": measure(
                lambda: booking_option_list(lead=lead, now=now, days=DAYS)
            ),
            "load": measure(load),
            "free": measure(lambda: free(calendars)),
        }
        offered = booking_option_list(lead=lead, now=now, days=DAYS)
        return timed, len(offered), free(calendars)

    results: dict[str, list[dict[str, Timed]]] = {"none": [], "with": []}
    offered: dict[str, tuple[int, int]] = {}
    vacuum_analyze()
    for repeat in range(repeats + 1):  # the first warms up and is left out
        timed, options, starts = window()
        if repeat:
            results["none"].append(timed)
        offered["none"] = options, starts
        Booking.objects.bulk_create(bookings)
        vacuum_analyze()
        timed, options, starts = window()
        if repeat:
            results["with"].append(timed)
        offered["with"] = options, starts
        bookings_delete()
        for booking in bookings:
            booking.pk = None  # inserted afresh next round
        vacuum_analyze()

    print(
        f"slots: 1 location ({ZONE}), {PRACTITIONERS} practitioners Mon-Sat"
        f" {OPENS:%H:%M}-{CLOSES:%H:%M}, {DURATION} min + {BUFFER_AFTER} after,"
        f" {DAYS} days; medians of {repeats} repeats x {CALLS} calls"
    )
    for name, label in (("none", "no bookings"), ("with", f"{BOOKINGS} bookings")):
        options, starts = offered[name]
        print(f"{label}: {options} options, {starts} free starts in all")
    labels = {
        "options": f"booking_option_list, one lead, {DAYS} days",
        "load": f"  _Calendars.load, {PRACTITIONERS} practitioners",
        "free": f"  free() x{PRACTITIONERS} (booking.slots)",
    }
    print(
        f"{'computation':44}{'ms, none':>9}{f'ms, {BOOKINGS}':>9}{'x none':>8}"
        f"{'queries':>10}"
    )
    problems = []
    for name, label in labels.items():
        none_ms = statistics.median(timed[name][0] for timed in results["none"])
        with_ms = statistics.median(timed[name][0] for timed in results["with"])
        counts = {
            side: {timed[name][1] for timed in results[side]}
            for side in ("none", "with")
        }
        shown = " / ".join(
            str(next(iter(found))) if len(found) == 1 else "varies"
            for found in counts.values()
        )
        print(
            f"{label:44}{none_ms:9.2f}{with_ms:9.2f}{with_ms / none_ms:7.2f}x"
            f"{shown:>10}"
        )
        every = counts["none"] | counts["with"]
        if len(every) != 1:
            problems.append(f"{name}: queries differ with bookings: {counts}")
        elif max(every) > PINNED_QUERIES[name]:
            problems.append(
                f"{name}: {max(every)} queries, pinned at {PINNED_QUERIES[name]}"
            )
    pins = ", ".join(f"{name} {count}" for name, count in PINNED_QUERIES.items())
    verdict = "FAILED" if problems else "OK"
    print(f"queries the same with and without bookings, pinned ({pins}): {verdict}")
    return problems


if __name__ == "__main__":
    main()
