"""Four weeks of free slots with 500 bookings and busy blocks, against none; and 20
bookers racing for one slot.

Run `python bench/slots.py [--repeats 7]` with DATABASE_URL pointing at a PostgreSQL
server (the test settings' default). It makes a throwaway database `bench_slots`
with one location (Europe/Istanbul), ten practitioners working there Mon-Sat
09:00-18:00 and one appointment type of 45 minutes plus 15 after, and one eligible
lead. It times the lead's booking options over 28 days (`booking_option_list`, what
the staff API and the patient's booking page call) and its two halves: reading the
ten calendars (`_Calendars.load`) and the pure slot engine (`free` for each). The
baseline is the same window with no bookings; every repeat measures it, then the
window with 500 bookings and 100 busy blocks from the practitioners' own calendars
(CalendarBusy, what the CalDAV import writes), so both share the machine's mood.
Figures are medians of the repeats.

Then, once per repeat, 20 threads, each with its own database connection and its
own eligible lead, call `booking_create` for the same free start at once (a
barrier): exactly one may win, the other 19 must be refused with SlotTaken. The
figures are the time from the barrier to each answer (p50 and max over every
race). Exits non-zero when a computation's query count differs between the two
windows or from its pinned number, or when a race has other than one winner.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
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
from django.db import connection, connections  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
)
from django.utils import timezone  # noqa: E402

from bench.common import Figure, median, report  # noqa: E402
from booking.models import (  # noqa: E402
    AppointmentType,
    Booking,
    CalendarBusy,
    WeeklyAvailability,
)
from booking.selectors import (  # noqa: E402
    _Calendars,
    booking_option_list,
    practitioner_free_slots,
)
from booking.services import SlotTaken, booking_create  # noqa: E402
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
BUSY_BLOCKS = 100  # from the practitioners' own calendars, 90 minutes each
BUSY_MINUTES = 90
CALLS = 3  # per repeat, averaged
BOOKERS = 20  # racing for one slot, once per repeat

# Queries per computation now; a change either way should be a decision. The
# options: the appointment types with their practitioners and those practitioners'
# locations (3), the lead's screening gate (3: outcomes, clearings, age), then the
# calendars. The calendars: weekly hours, exceptions, holidays, bookings, busy time
# from the practitioners' own calendars (5).
PINNED_QUERIES = {"options": 11, "load": 5, "free": 0}

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


def busy_build(
    *, practitioners: list[Practitioner], now: dt.datetime
) -> list[CalendarBusy]:
    """BUSY_BLOCKS blocks of BUSY_MINUTES from the practitioners' own calendars,
    as many each, starting at a random half hour of a working day (seeded); they
    may overlap bookings and each other, as imported time does."""
    rng = random.Random(11)  # noqa: S311 - test data, not secrets
    zone = clinic_zone(ZONE)
    first = now.astimezone(zone).date()
    days = [
        day
        for day in (first + dt.timedelta(days=n) for n in range(DAYS))
        if day.weekday() in WORKDAYS
    ]
    half_hours = (CLOSES.hour - OPENS.hour) * 2
    blocks: list[CalendarBusy] = []
    for n, practitioner in enumerate(practitioners):
        share = BUSY_BLOCKS // len(practitioners) + (
            n < BUSY_BLOCKS % len(practitioners)
        )
        for _ in range(share):
            day = rng.choice(days)
            starts = dt.datetime.combine(day, OPENS, tzinfo=zone) + dt.timedelta(
                minutes=30 * rng.randrange(half_hours)
            )
            blocks.append(
                CalendarBusy(
                    practitioner=practitioner,
                    starts_at=starts.astimezone(dt.UTC),
                    ends_at=(starts + dt.timedelta(minutes=BUSY_MINUTES)).astimezone(
                        dt.UTC
                    ),
                    uid=f"bench-busy-{practitioner.pk}-{len(blocks)}@example.com",
                )
            )
    return blocks


def bookings_delete() -> None:
    """Every booking and busy block, in one statement each: the bench made them
    all, and nothing else points at them (no emails, no courses) for the ORM's
    collector to look for."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM booking_booking")
        cursor.execute("DELETE FROM booking_calendarbusy")


def vacuum_analyze() -> None:
    """Bookings as a settled table would have them: no dead rows, fresh statistics."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE booking_booking")
        cursor.execute("VACUUM ANALYZE booking_calendarbusy")


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
        figures, context, problems = run(repeats)
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    report("slots", figures, context=context)
    if problems:
        sys.exit("\n".join(problems))


def run(repeats: int) -> tuple[list[Figure], str, list[str]]:
    """The figures, their context, and what breaks the pins or the race."""
    load_before = os.getloadavg()[0]
    lead, location, kind, practitioners = clinic_create()
    ids = [practitioner.pk for practitioner in practitioners]
    now = next_monday()
    until = now + dt.timedelta(days=DAYS)
    bookings = bookings_build(
        lead=lead, location=location, kind=kind, practitioners=practitioners, now=now
    )
    busy = busy_build(practitioners=practitioners, now=now)

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
        CalendarBusy.objects.bulk_create(busy)
        vacuum_analyze()
        timed, options, starts = window()
        if repeat:
            results["with"].append(timed)
        offered["with"] = options, starts
        bookings_delete()
        for row in [*bookings, *busy]:
            row.pk = None  # inserted afresh next round
        vacuum_analyze()

    loaded = f"{BOOKINGS} bookings + {BUSY_BLOCKS} busy"
    labels = {
        "options": f"booking_option_list, {DAYS} days",
        "load": f"_Calendars.load x{PRACTITIONERS}",
        "free": f"free() x{PRACTITIONERS}",
    }
    figures = []
    problems = []
    for name, label in labels.items():
        none_ms = statistics.median(timed[name][0] for timed in results["none"])
        with_ms = statistics.median(timed[name][0] for timed in results["with"])
        figures += [
            Figure(f"{label}, empty", none_ms, "ms"),
            Figure(
                f"{label}, {loaded}",
                with_ms,
                "ms",
                baseline=none_ms,
                baseline_name="the same, empty",
            ),
        ]
        counts = {
            side: {timed[name][1] for timed in results[side]}
            for side in ("none", "with")
        }
        every = counts["none"] | counts["with"]
        pinned = PINNED_QUERIES[name]
        figures.append(
            Figure(
                f"{label}: queries",
                float(max(every)),
                "queries",
                target=f"{pinned}, the same both ways",
                met=every == {pinned},
            )
        )
        if len(every) != 1:
            problems.append(f"{name}: queries differ with bookings: {counts}")
        elif every != {pinned}:
            problems.append(f"{name}: {max(every)} queries, pinned at {pinned}")

    answers: list[float] = []
    winners: list[int] = []
    for race in range(repeats):
        won, timings, odd = bookers_race(
            kind=kind, location=location, practitioner=practitioners[0], race=race
        )
        winners.append(won)
        answers += timings
        problems += odd
    figures += [
        Figure(f"{BOOKERS} bookers on one slot: answered, p50", median(answers), "ms"),
        Figure(f"{BOOKERS} bookers on one slot: answered, max", max(answers), "ms"),
        Figure(
            f"{BOOKERS} bookers on one slot: winners per race, most",
            float(max(winners)),
            "bookings",
            target="exactly 1 each race",
            met=set(winners) == {1},
        ),
    ]
    if set(winners) != {1}:
        problems.append(f"winners per race: {winners}, not one each")

    context = (
        f"1 location ({ZONE}), {PRACTITIONERS} practitioners Mon-Sat"
        f" {OPENS:%H:%M}-{CLOSES:%H:%M}, {DURATION} min + {BUFFER_AFTER} after,"
        f" {DAYS} days; medians of {repeats} repeats x {CALLS} calls;"
        f" empty: {offered['none'][0]} options, {offered['none'][1]} free starts;"
        f" {BOOKINGS} bookings and {BUSY_BLOCKS} busy blocks of {BUSY_MINUTES} min:"
        f" {offered['with'][0]} options, {offered['with'][1]} free starts;"
        f" {repeats} races of {BOOKERS} threads (own connections, own leads) for"
        f" one free start, barrier to answer; the losers refused by "
        + ", ".join(f"{what} {count}" for what, count in sorted(refusals.items()))
        + f" (deadlock_timeout {deadlock_timeout()}); machine load average"
        f" {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
        f" ({os.cpu_count()} cores)"
    )
    return figures, context, problems


def deadlock_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW deadlock_timeout")
        return str(cursor.fetchone()[0])


def racers_create(count: int) -> list[Lead]:
    """`count` leads eligible for the appointment type, each another person."""
    version = QuestionnaireVersion.objects.get(status="published")
    return [
        lead_of(
            submit(
                version,
                full_name=f"Racer {n}",
                email=f"racer.{n}@example.com",
                phone=f"+90533{n:07d}",
            )
        )
        for n in range(count)
    ]


_racers: list[Lead] = []
# Every race's refusals by what refused them (see bookers_race).
refusals: Counter[str] = Counter()


def bookers_race(
    *, kind: AppointmentType, location: Location, practitioner: Practitioner, race: int
) -> tuple[int, list[float], list[str]]:
    """BOOKERS threads book the `race`-th free start of `practitioner` at once, each
    for its own lead; (how many won, ms from the barrier to each answer, what
    went wrong besides a win or a SlotTaken)."""
    if not _racers:
        _racers.extend(racers_create(BOOKERS))
    # Spaced two hours apart, so no race's booking touches the next race's slot.
    slots = practitioner_free_slots(
        practitioner=practitioner,
        location=location,
        appointment_type=kind,
        now=timezone.now(),
    )
    starts = slots[race * 8].start
    released: list[float] = []
    outcomes: list[tuple[str, float]] = []
    lock = threading.Lock()

    def release() -> None:
        released.append(time.perf_counter())

    barrier = threading.Barrier(BOOKERS, action=release)

    def book(lead: Lead) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            try:
                booking_create(
                    lead=lead,
                    appointment_type=kind,
                    practitioner=practitioner,
                    location=location,
                    starts_at=starts,
                )
                outcome = "booked"
            except SlotTaken as refusal:
                # How it was refused: the free-time check (the winner had
                # committed), the exclusion constraint, or a deadlock between two
                # inserts (PostgreSQL ends one after deadlock_timeout).
                cause = type(refusal.__cause__).__name__
                outcome = f"taken:{cause}" if refusal.__cause__ else "taken:check"
            except Exception as error:  # noqa: BLE001 - reported, and fails the run
                outcome = f"{type(error).__name__}: {error}"
            answered = time.perf_counter()
            with lock:
                outcomes.append((outcome, (answered - released[0]) * 1000))
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(lead,)) for lead in _racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = sum(outcome == "booked" for outcome, _ in outcomes)
    for outcome, _ in outcomes:
        if outcome.startswith("taken:"):
            refusals[outcome.removeprefix("taken:")] += 1
    odd = [
        f"race {race}: a booker got {outcome}"
        for outcome, _ in outcomes
        if outcome != "booked" and not outcome.startswith("taken:")
    ]
    if len(outcomes) != BOOKERS:
        odd.append(f"race {race}: {BOOKERS - len(outcomes)} bookers never answered")
    return won, [ms for _, ms in outcomes], odd


if __name__ == "__main__":
    main()
