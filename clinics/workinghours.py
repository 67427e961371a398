"""Deadlines counted in a location's opening hours, in its time zone. No Django.

Opening hours are wall-clock ranges per weekday ({"mon": [["09:00", "18:00"]]});
a day left out, or given no ranges, is closed, and "24:00" ends a range at midnight.
A working minute is a real minute during which the location is open: on the day
clocks change, a range that the change shortens or lengthens counts what it lasts.
"""

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence

from core.zones import clinic_zone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_A_DAY = 24 * 60

# Ranges of one weekday as (opening, closing) minutes since local midnight.
_DayRanges = tuple[tuple[int, int], ...]


def deadline_after(
    start: dt.datetime,
    *,
    working_minutes: int,
    opening_hours: Mapping[str, Sequence[Sequence[str]]],
    time_zone: str,
) -> dt.datetime:
    """The aware moment `working_minutes` of opening hours after `start`.

    A start outside opening hours counts from the next opening, so zero minutes
    gives the first open moment at or after `start`; a deadline that uses up a
    range exactly falls on its closing time. The result is in `time_zone`, never
    before `start`, and never earlier for more minutes. Raises ValueError for a
    naive start, negative minutes, malformed hours, or hours with no open time.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be an aware datetime")
    if working_minutes < 0:
        raise ValueError(f"working_minutes must not be negative: {working_minutes}")
    week = _parse_week(opening_hours)
    zone = clinic_zone(time_zone)

    remaining = dt.timedelta(minutes=working_minutes)
    cursor = start.astimezone(dt.UTC)
    day = cursor.astimezone(zone).date()
    # A week with any open time ends the loop: each open range either holds the
    # deadline or uses up some of the remaining time.
    while True:
        for opens, closes in week[day.weekday()]:
            begin = max(_moment(day, opens, zone), cursor)
            close_at = _moment(day, closes, zone)
            # Over, or emptied by a clock change (opening in the skipped hour).
            if close_at <= begin:
                continue
            available = close_at - begin
            if remaining <= available:
                return (begin + remaining).astimezone(zone)
            remaining -= available
            cursor = close_at
        day += dt.timedelta(days=1)


def _moment(day: dt.date, minutes: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The UTC instant of a wall-clock time on `day`.

    A time the spring change skips maps forward by the gap, and a time the autumn
    change repeats means its first occurrence (zoneinfo's fold=0).
    """
    if minutes == MINUTES_A_DAY:
        day, minutes = day + dt.timedelta(days=1), 0
    wall = dt.time(minutes // 60, minutes % 60)
    return dt.datetime.combine(day, wall, tzinfo=zone).astimezone(dt.UTC)


def opening_hours_check(opening_hours: Mapping[str, Sequence[Sequence[str]]]) -> None:
    """Raise ValueError, saying what is wrong, unless deadlines can be counted in
    `opening_hours`."""
    _parse_week(opening_hours)


def _parse_week(
    opening_hours: Mapping[str, Sequence[Sequence[str]]],
) -> list[_DayRanges]:
    """Each weekday's ranges (Monday first), sorted, with overlaps joined."""
    unknown = set(opening_hours) - set(WEEKDAYS)
    if unknown:
        raise ValueError(
            f"opening hours name unknown weekdays {sorted(unknown)}; "
            f"use {', '.join(WEEKDAYS)}"
        )
    week = [_parse_day(name, opening_hours.get(name) or ()) for name in WEEKDAYS]
    if not any(week):
        raise ValueError(
            "opening hours have no open time on any weekday, so no deadline can "
            "be counted in them; give at least one range, e.g. "
            '{"mon": [["09:00", "18:00"]]}'
        )
    return week


def _parse_day(name: str, ranges: Sequence[Sequence[str]]) -> _DayRanges:
    parsed: list[tuple[int, int]] = []
    for pair in ranges:
        if len(pair) != 2:
            raise ValueError(f"{name}: a range is [opening, closing], not {pair!r}")
        opens, closes = _minutes(name, pair[0]), _minutes(name, pair[1])
        if opens >= closes:
            raise ValueError(f"{name}: {pair[0]}-{pair[1]} closes before it opens")
        parsed.append((opens, closes))
    parsed.sort()
    joined: list[tuple[int, int]] = []
    for opens, closes in parsed:
        if joined and opens <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], closes))
        else:
            joined.append((opens, closes))
    return tuple(joined)


def _minutes(name: str, text: str) -> int:
    """Minutes since midnight of "HH:MM" (00:00 to 24:00)."""
    hours, _colon, minutes = str(text).partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"{name}: {text!r} is not a time like 09:30")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or total > MINUTES_A_DAY:
        raise ValueError(f"{name}: {text!r} is not a time of day")
    return total
