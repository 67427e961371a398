"""The free-slot engine: examples of each rule, then properties around clock changes.

The properties hold the engine's answer against the rules read independently: the
wall clock is sampled instant by instant instead of resolved as the engine does,
and a brute-force scan of every UTC quarter hour says what must be offered.
"""

import datetime as dt
import functools
import importlib.resources
import math
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.slots import Interval, SlotRules, Window, free_slots
from core.zones import clinic_zone

BERLIN = clinic_zone("Europe/Berlin")
MINUTE = dt.timedelta(minutes=1)
QUARTER = dt.timedelta(minutes=15)
DAY = dt.timedelta(days=1)
PROPERTY = settings(max_examples=200, deadline=None)


def minutes(count: int) -> dt.timedelta:
    return count * MINUTE


def berlin(day: dt.date, hour: int, minute: int = 0, fold: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, fold=fold), tzinfo=BERLIN)


def window(start: str, end: str) -> Window:
    return Window(dt.time.fromisoformat(start), dt.time.fromisoformat(end))


def mornings() -> dict[int, list[Window]]:
    return {weekday: [window("09:00", "12:00")] for weekday in range(5)}


@dataclass(frozen=True)
class Case:
    """One call of the engine; by default a practitioner who works weekday mornings."""

    now: dt.datetime
    rules: SlotRules
    zone: zoneinfo.ZoneInfo = BERLIN
    weekly: dict[int, list[Window]] = field(default_factory=mornings)
    exceptions: dict[dt.date, list[Window]] = field(default_factory=dict)
    holidays: frozenset[dt.date] = frozenset()
    busy: list[Interval] = field(default_factory=list)
    until: dt.datetime | None = None

    def slots(self) -> list[Interval]:
        return free_slots(
            zone=self.zone,
            weekly=self.weekly,
            exceptions=self.exceptions,
            holidays=self.holidays,
            busy=self.busy,
            rules=self.rules,
            now=self.now,
            until=self.until,
        )

    def local_starts(self) -> list[str]:
        """The offered starts as "weekday HH:MM" local time, as a patient reads them."""
        return [
            slot.start.astimezone(self.zone).strftime("%a %H:%M")
            for slot in self.slots()
        ]


def on(weekday: str, times: list[str]) -> list[str]:
    return [f"{weekday} {time}" for time in times]


# A week without clock changes: Monday 1 June 2026 to Sunday 7 June.
MONDAY = dt.date(2026, 6, 1)
WEDNESDAY = dt.date(2026, 6, 3)
THURSDAY = dt.date(2026, 6, 4)
HALF_HOURS = SlotRules(duration=minutes(30), step=minutes(30), horizon=7 * DAY)
MORNING = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
NAIVE = dt.datetime(2026, 6, 1)  # noqa: DTZ001


# Examples


def test_a_normal_week_offers_every_weekday_morning_and_no_weekend():
    case = Case(now=berlin(MONDAY, 0), rules=HALF_HOURS)

    slots = case.slots()

    weekdays = ("Mon", "Tue", "Wed", "Thu", "Fri")
    assert case.local_starts() == [
        start for weekday in weekdays for start in on(weekday, MORNING)
    ]
    assert slots[0] == Interval(
        dt.datetime(2026, 6, 1, 7, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 1, 7, 30, tzinfo=dt.UTC),
    )
    assert all(slot.start.tzinfo is slot.end.tzinfo is dt.UTC for slot in slots)


def test_an_exception_day_replaces_its_weekday_and_an_empty_one_closes_it():
    saturday = dt.date(2026, 6, 6)
    case = Case(
        now=berlin(MONDAY, 0),
        rules=HALF_HOURS,
        exceptions={
            WEDNESDAY: [window("14:00", "15:00")],
            THURSDAY: [],
            saturday: [window("10:00", "11:00")],
        },
    )

    starts = case.local_starts()

    assert starts[12:] == (
        on("Wed", ["14:00", "14:30"])
        + on("Fri", MORNING)
        + on("Sat", ["10:00", "10:30"])
    )


def test_a_holiday_closes_the_day_even_with_exception_hours():
    case = Case(
        now=berlin(MONDAY, 0),
        rules=HALF_HOURS,
        holidays=frozenset({WEDNESDAY, THURSDAY}),
        exceptions={THURSDAY: [window("14:00", "15:00")]},
    )

    starts = case.local_starts()

    assert starts == on("Mon", MORNING) + on("Tue", MORNING) + on("Fri", MORNING)


def test_buffers_keep_clear_of_a_booking_but_may_touch_it_and_leave_the_window():
    booked = Interval(berlin(MONDAY, 10), berlin(MONDAY, 10, 30))
    rules = SlotRules(
        duration=minutes(30),
        buffer_before=QUARTER,
        buffer_after=QUARTER,
        horizon=DAY,
    )
    case = Case(now=berlin(MONDAY, 0), rules=rules, busy=[booked])

    # 09:15's buffer ends at 10:00 and 10:45's begins at 10:30: they only touch.
    # 09:00's buffer begins before the window opens, 11:30's ends after it closes.
    assert case.local_starts() == on(
        "Mon", ["09:00", "09:15", "10:45", "11:00", "11:15", "11:30"]
    )


def test_busy_time_given_in_utc_blocks_the_local_slots_it_overlaps():
    # 08:00 to 08:40 UTC is 10:00 to 10:40 in Berlin.
    busy = Interval(
        dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 1, 8, 40, tzinfo=dt.UTC),
    )
    case = Case(now=berlin(MONDAY, 0), rules=HALF_HOURS, busy=[busy])

    assert case.local_starts()[:4] == on("Mon", ["09:00", "09:30", "11:00", "11:30"])


def test_a_booking_inside_a_longer_busy_block_leaves_the_whole_block_busy():
    block = Interval(berlin(MONDAY, 9), berlin(MONDAY, 11))
    inside = Interval(berlin(MONDAY, 9, 30), berlin(MONDAY, 10))
    case = Case(now=berlin(MONDAY, 0), rules=HALF_HOURS, busy=[inside, block])

    assert case.local_starts()[:3] == ["Mon 11:00", "Mon 11:30", "Tue 09:00"]


def test_notice_and_horizon_bound_the_offered_starts():
    rules = SlotRules(duration=minutes(30), min_notice=minutes(60), horizon=DAY)
    case = Case(now=berlin(MONDAY, 9, 10), rules=rules)

    starts = case.local_starts()

    # From 10:10 on Monday (notice) to 09:10 on Tuesday (horizon).
    assert starts[0] == "Mon 10:15"
    assert starts[-2:] == ["Mon 11:30", "Tue 09:00"]


def test_a_start_exactly_at_the_horizon_is_offered():
    rules = SlotRules(duration=minutes(30), horizon=minutes(9 * 60))
    case = Case(now=berlin(MONDAY, 0), rules=rules)

    assert case.local_starts() == ["Mon 09:00"]


def test_until_stops_before_the_horizon_and_excludes_its_own_instant():
    tuesday = dt.date(2026, 6, 2)
    case = Case(now=berlin(MONDAY, 0), rules=HALF_HOURS, until=berlin(tuesday, 9))

    assert case.local_starts() == on("Mon", MORNING)


def test_overlapping_windows_offer_each_start_once():
    case = Case(
        now=berlin(MONDAY, 0),
        rules=SlotRules(duration=minutes(60), step=minutes(60), horizon=DAY),
        weekly={0: [window("09:00", "11:00"), window("10:00", "12:00")]},
    )

    assert case.local_starts() == on("Mon", ["09:00", "10:00", "11:00"])


# Berlin's clock changes: 02:00 becomes 03:00 on 29 March 2026, 03:00 becomes 02:00
# on 25 October 2026.
SPRING = dt.date(2026, 3, 29)
AUTUMN = dt.date(2026, 10, 25)


def sunday_night(start: str, end: str, rules: SlotRules, day: dt.date) -> Case:
    return Case(now=berlin(day, 0), rules=rules, weekly={6: [window(start, end)]})


def test_the_spring_change_offers_no_skipped_time_and_keeps_durations():
    rules = SlotRules(duration=minutes(30), step=minutes(30), horizon=DAY)
    case = sunday_night("01:00", "04:00", rules, SPRING)

    slots = case.slots()

    assert case.local_starts() == on("Sun", ["01:00", "01:30", "03:00", "03:30"])
    assert {slot.end - slot.start for slot in slots} == {minutes(30)}
    assert slots[1].end == berlin(SPRING, 3)


def test_a_window_ending_in_the_skipped_hour_closes_at_the_jump():
    rules = SlotRules(duration=minutes(30), horizon=DAY)
    case = sunday_night("00:30", "02:30", rules, SPRING)

    # 01:30 ends as 02:00 becomes 03:00; 01:45 would end at 03:15.
    assert case.local_starts() == on(
        "Sun", ["00:30", "00:45", "01:00", "01:15", "01:30"]
    )


def test_a_window_starting_in_the_skipped_hour_opens_at_the_jump():
    rules = SlotRules(duration=minutes(60), step=minutes(30), horizon=DAY)
    case = sunday_night("02:30", "04:00", rules, SPRING)

    assert case.local_starts() == on("Sun", ["03:00"])


def test_notice_from_a_local_now_is_real_time_across_the_change():
    rules = SlotRules(duration=minutes(30), min_notice=minutes(240), horizon=DAY)
    case = sunday_night("00:00", "08:00", rules, SPRING)
    case = Case(now=berlin(SPRING, 0, 30), rules=rules, weekly=case.weekly)

    # Four hours after 00:30 the clock reads 05:30: it skipped an hour.
    assert case.local_starts()[0] == "Sun 05:30"


def test_the_autumn_change_offers_no_repeated_time_and_keeps_durations():
    rules = SlotRules(duration=minutes(120), step=minutes(60), horizon=DAY)
    case = sunday_night("00:00", "05:00", rules, AUTUMN)

    slots = case.slots()

    assert case.local_starts() == on("Sun", ["00:00", "01:00", "03:00"])
    assert {slot.end - slot.start for slot in slots} == {minutes(120)}
    # Two hours after 01:00 summer time the clock reads 02:00 for the second time.
    # (A repeated local time never equals a time in another zone: compare in UTC.)
    assert slots[1].end == berlin(AUTUMN, 2, fold=1).astimezone(dt.UTC)


def test_a_window_ending_in_the_repeated_hour_closes_at_its_first_occurrence():
    rules = SlotRules(duration=minutes(60), horizon=DAY)
    case = sunday_night("00:00", "02:30", rules, AUTUMN)

    # 01:30 ends at the first 02:30, the window's end; 01:45 would end after it.
    assert case.local_starts() == on(
        "Sun", ["00:00", "00:15", "00:30", "00:45", "01:00", "01:15", "01:30"]
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Window(dt.time(10), dt.time(9)), "must end after it starts"),
        (lambda: SlotRules(duration=dt.timedelta(0)), "must be positive"),
        (lambda: SlotRules(duration=QUARTER, buffer_after=-MINUTE), "not be negative"),
        (lambda: Interval(NAIVE, NAIVE), "aware datetimes"),
        (lambda: Interval(berlin(MONDAY, 9), berlin(MONDAY, 8)), "ends before"),
        (lambda: Case(now=NAIVE, rules=HALF_HOURS).slots(), "aware datetimes"),
    ],
)
def test_malformed_input_is_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# Zones


def test_clinic_zone_gives_one_object_per_name_under_its_name():
    assert clinic_zone("Europe/Berlin") is BERLIN
    assert str(BERLIN) == "Europe/Berlin"
    assert berlin(MONDAY, 12).utcoffset() == dt.timedelta(hours=2)


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "europe"])
def test_clinic_zone_refuses_names_tzdata_does_not_define(name):
    with pytest.raises(zoneinfo.ZoneInfoNotFoundError):
        clinic_zone(name)


@pytest.fixture
def host_berlin_is_utc(tmp_path: Path) -> Iterator[None]:
    """A host time zone database whose Europe/Berlin is really UTC."""
    utc = importlib.resources.files("tzdata.zoneinfo").joinpath("UTC").read_bytes()
    (tmp_path / "Europe").mkdir()
    (tmp_path / "Europe" / "Berlin").write_bytes(utc)
    before = zoneinfo.TZPATH
    zoneinfo.reset_tzpath(to=[str(tmp_path)])
    try:
        yield
    finally:
        zoneinfo.reset_tzpath(to=before)  # as the service set it (config/__init__.py)


@pytest.mark.usefixtures("host_berlin_is_utc")
def test_clinic_zone_ignores_the_host_time_zone_database():
    noon = dt.datetime.combine(dt.date(2026, 1, 15), dt.time(12))

    host = zoneinfo.ZoneInfo.no_cache("Europe/Berlin")
    pinned = clinic_zone.__wrapped__("Europe/Berlin")

    assert noon.replace(tzinfo=host).utcoffset() == dt.timedelta(0)
    assert noon.replace(tzinfo=pinned).utcoffset() == dt.timedelta(hours=1)


# Properties

# (zone, a day around which `now` falls, how long that day lasts). Berlin changes
# clocks on each of its days; Istanbul, on +03 since 2016, is the control there
# and changed clocks in 2015.
SCENARIOS = [
    ("Europe/Berlin", dt.date(2026, 3, 29), 23),
    ("Europe/Berlin", dt.date(2026, 10, 25), 25),
    ("Europe/Berlin", dt.date(2027, 3, 28), 23),
    ("Europe/Berlin", dt.date(2027, 10, 31), 25),
    ("Europe/Istanbul", dt.date(2026, 3, 29), 24),
    ("Europe/Istanbul", dt.date(2026, 10, 25), 24),
    ("Europe/Istanbul", dt.date(2015, 3, 29), 23),
    ("Europe/Istanbul", dt.date(2015, 11, 8), 25),
]


@pytest.mark.parametrize(("name", "day", "hours"), SCENARIOS)
def test_the_property_scenarios_fall_on_the_clock_changes_they_claim(name, day, hours):
    zone = clinic_zone(name)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    next_midnight = dt.datetime.combine(day + DAY, dt.time(), tzinfo=zone)

    length = next_midnight.astimezone(dt.UTC) - midnight.astimezone(dt.UTC)

    assert length == dt.timedelta(hours=hours)


def quarter(index: int) -> dt.time:
    return dt.time(index // 4, index % 4 * 15)


# Windows start and end on quarter hours. Nights (01:00 to 04:00, every clock
# change above) and common lengths come up more often than by chance.
WINDOWS = st.builds(
    lambda start, length: Window(quarter(start), quarter(min(start + length, 95))),
    st.integers(0, 94) | st.integers(4, 16),
    st.sampled_from([2, 4, 6, 8, 12, 16, 24, 32, 48]) | st.integers(1, 95),
)
# Night windows for the day of a clock change: from 00:00-02:00 to 02:15-07:00,
# so some end in the skipped or repeated hour and many span it.
NIGHTS = st.builds(
    lambda start, end: Window(quarter(start), quarter(end)),
    st.integers(0, 8),
    st.integers(9, 16) | st.integers(9, 28),
)
RULES = st.builds(
    SlotRules,
    duration=st.sampled_from([15, 20, 30, 45, 60, 90, 120]).map(minutes),
    buffer_before=st.sampled_from([0, 5, 10, 15, 30]).map(minutes),
    buffer_after=st.sampled_from([0, 5, 10, 15, 30]).map(minutes),
    min_notice=st.sampled_from([0, 30, 120, 600]).map(minutes),
    horizon=st.sampled_from([360, 1440, 2880, 4320]).map(minutes),
    step=st.sampled_from([15, 30, 60]).map(minutes),
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    name, change_day, _ = draw(st.sampled_from(SCENARIOS))
    zone = clinic_zone(name)
    anchor = dt.datetime.combine(change_day, dt.time(), tzinfo=dt.UTC)
    days = st.integers(-2, 3).map(lambda offset: change_day + offset * DAY)
    now = anchor + minutes(draw(st.integers(-2 * 1440, 720)))
    # Busy time where the slots are: from a day before `now` to three after.
    busy = st.builds(
        lambda start, length: Interval(
            now + minutes(5 * start), now + minutes(5 * (start + length))
        ),
        st.integers(-288, 3 * 288),
        st.integers(0, 60),
    )
    until = st.integers(0, 4 * 1440).map(lambda later: now + minutes(later))
    return Case(
        # In the local zone or in UTC: the engine must not care.
        now=draw(st.sampled_from([now, now.astimezone(zone)])),
        rules=draw(RULES),
        zone=zone,
        weekly={
            weekday: draw(st.lists(windows, min_size=1, max_size=2))
            for weekday in range(7)
            for windows in [
                NIGHTS | WINDOWS if weekday == change_day.weekday() else WINDOWS
            ]
        },
        exceptions=draw(
            st.dictionaries(days, st.lists(WINDOWS, max_size=2), max_size=2)
        ),
        holidays=draw(st.frozensets(days, max_size=1)),
        busy=draw(st.lists(busy, max_size=20)),
        until=draw(st.none() | until),
    )


def wall(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


@functools.cache
def offsets_near(zone: zoneinfo.ZoneInfo, day: dt.date) -> frozenset[dt.timedelta]:
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    hours = (noon + dt.timedelta(hours=hour) for hour in range(-40, 41))
    return frozenset(
        offset for moment in hours if (offset := moment.astimezone(zone).utcoffset())
    )


def instants_showing(local: dt.datetime, zone: zoneinfo.ZoneInfo) -> set[dt.datetime]:
    """Every instant at which the clock in `zone` reads `local`, found by trying
    each UTC offset the zone uses around that day."""
    candidates = (
        local.replace(tzinfo=dt.UTC) - offset
        for offset in offsets_near(zone, local.date())
    )
    return {moment for moment in candidates if wall(moment, zone) == local}


def windows_on(case: Case, day: dt.date) -> list[Window]:
    if day in case.holidays:
        return []
    if day in case.exceptions:
        return case.exceptions[day]
    return case.weekly.get(day.weekday(), [])


def samples(start: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
    """Enough instants of [start, end) to follow its wall clock, since every time
    here (windows, starts, durations, clock changes) falls on five minutes."""
    moment = start
    while moment < end:
        yield moment
        moment += 5 * MINUTE
    yield end - dt.timedelta(microseconds=1)


def in_a_window(case: Case, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the clock reads inside one window of the start's local day all
    through [start, end), and the start is on that window's grid."""
    local_start = wall(start, case.zone)
    day = local_start.date()
    for each in windows_on(case, day):
        since_opening = local_start - dt.datetime.combine(day, each.start)
        on_grid = since_opening >= dt.timedelta(0) and not (
            since_opening % case.rules.step
        )
        if on_grid and all(
            wall(moment, case.zone).date() == day
            and each.start <= wall(moment, case.zone).time() < each.end
            for moment in samples(start, end)
        ):
            return True
    return False


def clear_of_busy(case: Case, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the padded slot shares no instant with busy time (an empty busy
    interval has none)."""
    padded_start = start - case.rules.buffer_before
    padded_end = end + case.rules.buffer_after
    return not any(
        max(busy.start, padded_start) < min(busy.end, padded_end) for busy in case.busy
    )


def in_booking_range(case: Case, start: dt.datetime) -> bool:
    now = case.now.astimezone(dt.UTC)
    if not now + case.rules.min_notice <= start <= now + case.rules.horizon:
        return False
    return case.until is None or start < case.until


def bookable(case: Case, start: dt.datetime) -> bool:
    end = start + case.rules.duration
    return (
        in_booking_range(case, start)
        and in_a_window(case, start, end)
        and len(instants_showing(wall(start, case.zone), case.zone)) == 1
        and clear_of_busy(case, start, end)
    )


def every_bookable_start(case: Case) -> list[dt.datetime]:
    """The starts the rules allow, found by trying every UTC quarter hour in range.
    Every start is one: windows and steps are quarter hours, offsets whole hours."""
    now = case.now.astimezone(dt.UTC)
    earliest = (now + case.rules.min_notice).timestamp()
    first = dt.datetime.fromtimestamp(math.ceil(earliest / 900) * 900, dt.UTC)
    count = (now + case.rules.horizon - first) // QUARTER + 1
    moments = (first + index * QUARTER for index in range(count))
    return [moment for moment in moments if bookable(case, moment)]


@PROPERTY
@given(case=cases())
def test_every_offered_slot_keeps_every_rule(case):
    slots = case.slots()

    starts = [slot.start for slot in slots]
    assert starts == sorted(set(starts)), "sorted, without duplicates"
    for slot in slots:
        assert slot.start.tzinfo is slot.end.tzinfo is dt.UTC, slot
        assert slot.end - slot.start == case.rules.duration, slot
        assert clear_of_busy(case, slot.start, slot.end), slot
        assert in_a_window(case, slot.start, slot.end), slot
        assert in_booking_range(case, slot.start), slot
        assert instants_showing(wall(slot.start, case.zone), case.zone) == {
            slot.start
        }, f"{slot}: the clock skips or repeats its local start"


@PROPERTY
@given(case=cases())
def test_every_start_the_rules_allow_is_offered(case):
    assert [slot.start for slot in case.slots()] == every_bookable_start(case)
