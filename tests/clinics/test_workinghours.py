import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinics.workinghours import WEEKDAYS, deadline_after
from core.zones import clinic_zone

ISTANBUL = clinic_zone("Europe/Istanbul")  # the zones the service uses
WEEKDAY = [["09:00", "18:00"]]
# The default of a new location: weekdays 09:00-18:00, Saturday 10:00-14:00.
CLINIC_HOURS = {
    "mon": WEEKDAY,
    "tue": WEEKDAY,
    "wed": WEEKDAY,
    "thu": WEEKDAY,
    "fri": WEEKDAY,
    "sat": [["10:00", "14:00"]],
}


def istanbul(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in March 2026 (the 2nd is a Monday), Istanbul time."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=ISTANBUL)


def clinic_deadline(start: dt.datetime, minutes: int) -> dt.datetime:
    return deadline_after(
        start,
        working_minutes=minutes,
        opening_hours=CLINIC_HOURS,
        time_zone="Europe/Istanbul",
    )


@pytest.mark.parametrize(
    ("start", "minutes", "deadline"),
    [
        pytest.param(istanbul(2, 10), 5, istanbul(2, 10, 5), id="open: five minutes"),
        pytest.param(istanbul(2, 12), 540, istanbul(3, 12), id="a working day"),
        pytest.param(istanbul(2, 7), 60, istanbul(2, 10), id="before opening"),
        pytest.param(istanbul(2, 18), 5, istanbul(3, 9, 5), id="at closing time"),
        pytest.param(istanbul(2, 17, 58), 5, istanbul(3, 9, 3), id="across the night"),
        pytest.param(istanbul(6, 17, 30), 60, istanbul(7, 10, 30), id="into Saturday"),
        pytest.param(istanbul(7, 23), 5, istanbul(9, 9, 5), id="closed Sunday"),
        pytest.param(istanbul(7, 13), 540, istanbul(9, 17), id="day over weekend"),
        pytest.param(istanbul(2, 17), 60, istanbul(2, 18), id="ends at closing"),
    ],
)
def test_deadlines_count_only_the_clinics_opening_hours(
    start: dt.datetime, minutes: int, deadline: dt.datetime
) -> None:
    assert clinic_deadline(start, minutes) == deadline


def test_no_minutes_means_the_first_open_moment() -> None:
    assert clinic_deadline(istanbul(2, 11, 15), 0) == istanbul(2, 11, 15)
    assert clinic_deadline(istanbul(2, 20), 0) == istanbul(3, 9)


def test_the_deadline_is_told_in_the_locations_time_zone() -> None:
    start = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)  # 10:00 in Istanbul

    deadline = clinic_deadline(start, 5)

    assert deadline.tzinfo == ISTANBUL
    assert (deadline.hour, deadline.minute) == (10, 5)


def test_a_lunch_break_is_not_counted() -> None:
    hours = {"mon": [["13:00", "18:00"], ["09:00", "12:00"]]}

    deadline = deadline_after(
        istanbul(2, 11, 30),
        working_minutes=60,
        opening_hours=hours,
        time_zone="Europe/Istanbul",
    )

    assert deadline == istanbul(2, 13, 30)


def test_overlapping_ranges_count_once() -> None:
    hours = {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}

    deadline = deadline_after(
        istanbul(2, 9),
        working_minutes=241,
        opening_hours=hours,
        time_zone="Europe/Istanbul",
    )

    assert deadline == istanbul(9, 9, 1)


def test_a_clinic_open_around_the_clock_counts_clock_minutes() -> None:
    always = {day: [["00:00", "24:00"]] for day in WEEKDAYS}
    start = dt.datetime(2026, 3, 7, 23, 50, tzinfo=dt.UTC)

    deadline = deadline_after(
        start, working_minutes=3 * 24 * 60 + 20, opening_hours=always, time_zone="UTC"
    )

    assert deadline == start + dt.timedelta(days=3, minutes=20)


def test_a_weekend_with_a_clock_change_keeps_the_wall_clock_opening() -> None:
    # New York moves its clocks forward on Sunday 8 March 2026.
    new_york = clinic_zone("America/New_York")
    friday_evening = dt.datetime(2026, 3, 6, 17, 30, tzinfo=new_york)

    deadline = deadline_after(
        friday_evening,
        working_minutes=60,
        opening_hours={"mon": WEEKDAY, "fri": WEEKDAY},
        time_zone="America/New_York",
    )

    assert deadline == dt.datetime(2026, 3, 9, 9, 30, tzinfo=new_york)
    assert deadline.utcoffset() == dt.timedelta(hours=-4)


@pytest.mark.parametrize(
    ("day", "real_hours"),
    [
        pytest.param(29, 2, id="spring: the night is an hour shorter"),
        pytest.param(25, 4, id="autumn: the night is an hour longer"),
    ],
)
def test_opening_hours_across_a_clock_change_count_real_minutes(
    day: int, real_hours: int
) -> None:
    # Berlin changes its clocks at 02:00/03:00 on Sunday 29 March and 25 October 2026.
    berlin = clinic_zone("Europe/Berlin")
    month = 3 if day == 29 else 10
    night_shift = {"sun": [["01:00", "04:00"]]}
    start = dt.datetime(2026, month, day, 1, 0, tzinfo=berlin)

    deadline = deadline_after(
        start,
        working_minutes=real_hours * 60,
        opening_hours=night_shift,
        time_zone="Europe/Berlin",
    )

    # Aware datetimes sharing a tzinfo subtract by wall clock: compare in UTC.
    elapsed = deadline.astimezone(dt.UTC) - start.astimezone(dt.UTC)
    assert elapsed == dt.timedelta(hours=real_hours)
    assert deadline.hour == 4


@pytest.mark.parametrize(
    "opening_hours",
    [
        pytest.param({}, id="no days"),
        pytest.param({"mon": [], "sat": []}, id="only empty days"),
    ],
)
def test_opening_hours_without_any_open_time_are_refused(
    opening_hours: dict[str, list[list[str]]],
) -> None:
    with pytest.raises(ValueError, match="no open time"):
        deadline_after(
            istanbul(2, 10),
            working_minutes=5,
            opening_hours=opening_hours,
            time_zone="Europe/Istanbul",
        )


@pytest.mark.parametrize(
    ("opening_hours", "message"),
    [
        pytest.param({"monday": WEEKDAY}, "unknown weekdays", id="weekday name"),
        pytest.param({"mon": [["9am", "6pm"]]}, "not a time", id="time format"),
        pytest.param({"mon": [["09:00", "24:30"]]}, "not a time of day", id="past 24"),
        pytest.param({"mon": [["09:60", "18:00"]]}, "not a time of day", id="minute"),
        pytest.param({"mon": [["18:00", "09:00"]]}, "closes before", id="reversed"),
        pytest.param({"mon": [["09:00"]]}, "a range is", id="half a range"),
    ],
)
def test_malformed_opening_hours_are_refused_with_the_reason(
    opening_hours: dict[str, list[list[str]]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        deadline_after(
            istanbul(2, 10),
            working_minutes=5,
            opening_hours=opening_hours,
            time_zone="Europe/Istanbul",
        )


def test_a_naive_start_or_negative_minutes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        clinic_deadline(dt.datetime(2026, 3, 2, 10, 0), 5)  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        clinic_deadline(istanbul(2, 10), -1)


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


ZONES = ["UTC", "Europe/Istanbul", "Europe/Berlin", "America/New_York"]


@st.composite
def opening_hours(draw: st.DrawFn) -> dict[str, list[list[str]]]:
    """Any week with some open time: up to three ranges a day, to the minute."""

    def clock(minutes: int) -> str:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    week: dict[str, list[list[str]]] = {}
    for day in draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1)):
        ranges = []
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            opens = draw(st.integers(min_value=0, max_value=24 * 60 - 1))
            closes = draw(st.integers(min_value=opens + 1, max_value=24 * 60))
            ranges.append([clock(opens), clock(closes)])
        week[day] = ranges
    return week


starts = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([clinic_zone(zone) for zone in ZONES]),
)
minutes = st.integers(min_value=0, max_value=3 * 7 * 24 * 60)


@given(
    start=starts,
    hours=opening_hours(),
    zone=st.sampled_from(ZONES),
    first=minutes,
    more=minutes,
)
def test_a_deadline_never_comes_before_the_start_nor_earlier_for_more_minutes(
    start: dt.datetime,
    hours: dict[str, list[list[str]]],
    zone: str,
    first: int,
    more: int,
) -> None:
    earlier = deadline_after(
        start, working_minutes=first, opening_hours=hours, time_zone=zone
    )
    later = deadline_after(
        start, working_minutes=first + more, opening_hours=hours, time_zone=zone
    )

    # In UTC: aware datetimes that share a tzinfo compare by wall clock.
    assert utc(start) <= utc(earlier) <= utc(later)
    if more:
        # Counting on from a deadline is the same as counting the sum at once.
        counted_on = deadline_after(
            earlier, working_minutes=more, opening_hours=hours, time_zone=zone
        )
        assert utc(counted_on) == utc(later)


@given(start=starts, hours=opening_hours(), count=minutes)
def test_a_deadline_falls_within_opening_hours(
    start: dt.datetime, hours: dict[str, list[list[str]]], count: int
) -> None:
    # In UTC, where the wall clock never jumps.
    deadline = deadline_after(
        start, working_minutes=count, opening_hours=hours, time_zone="UTC"
    )

    day = WEEKDAYS[deadline.weekday()]
    previous_day = WEEKDAYS[(deadline - dt.timedelta(minutes=1)).weekday()]
    clock = f"{deadline:%H:%M}"
    within = any(opens <= clock < closes for opens, closes in hours.get(day, []))
    # A deadline that uses up a range ends at its closing time (24:00 is 00:00).
    at_close = any(
        closes == clock or (closes == "24:00" and clock == "00:00")
        for opens, closes in hours.get(previous_day if clock == "00:00" else day, [])
    )
    assert within or (count > 0 and at_close)
