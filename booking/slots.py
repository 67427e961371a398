"""The free appointment slots of one practitioner at one location. No Django.

1. A slot is the appointment itself, [start, start + duration) in absolute time,
   wholly inside one working window of one local day in `zone`. A day with an
   entry in `exceptions` has those windows instead of its weekday's (an empty
   list closes it); a holiday is closed whatever either says.
2. The slot widened by its buffers, [start - buffer_before, end + buffer_after),
   overlaps no busy interval. Intervals are half-open, so touching is not
   overlapping; the buffers may reach outside the window.
3. now + min_notice <= start <= now + horizon, and start < until when given.
4. Starts are the window's start plus whole steps, walked on the wall clock. A
   wall time that the spring change skips, or that the autumn change shows twice,
   is never a start. A window opens the first time its day's clock reads its
   start or later and closes the first time it reads its end or later: a bound
   the autumn change repeats means its first occurrence, and a bound the spring
   change skips means the jump (a window to 02:30 closes when 02:00 becomes
   03:00). Durations, buffers, notice and horizon are absolute time: an
   appointment across the autumn change lasts `duration`, though the wall clock
   shows an hour more.
5. The result is sorted, without duplicates, in UTC.

Busy time is sorted and merged once; each candidate start then checks it by
bisection, so a month of starts against hundreds of bookings stays cheap.

Give `zone` from core.zones.clinic_zone: the pinned `tzdata` package, not the
host's database, decides the clock changes, for the slots and every page, email
and .ics file that shows them alike.
"""

import bisect
import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_TICK = dt.timedelta(microseconds=1)


def _is_aware(moment: dt.datetime) -> bool:
    return moment.utcoffset() is not None


@dataclass(frozen=True)
class Window:
    """Working time on a local day, in wall-clock time; never across midnight."""

    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are wall-clock times, without tzinfo")
        if self.end <= self.start:
            raise ValueError(f"window must end after it starts: {self}")


@dataclass(frozen=True)
class Interval:
    """Absolute time [start, end) between aware datetimes; it may be empty."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if not (_is_aware(self.start) and _is_aware(self.end)):
            raise ValueError(f"interval needs aware datetimes: {self}")
        if self.end < self.start:
            raise ValueError(f"interval ends before it starts: {self}")


@dataclass(frozen=True)
class SlotRules:
    """What an appointment type asks of a slot; every span is absolute time."""

    duration: dt.timedelta
    buffer_before: dt.timedelta = dt.timedelta(0)
    buffer_after: dt.timedelta = dt.timedelta(0)
    min_notice: dt.timedelta = dt.timedelta(0)
    horizon: dt.timedelta = dt.timedelta(days=28)
    step: dt.timedelta = dt.timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.duration <= dt.timedelta(0) or self.step <= dt.timedelta(0):
            raise ValueError(f"duration and step must be positive: {self}")
        spans = (self.buffer_before, self.buffer_after, self.min_notice, self.horizon)
        if min(spans) < dt.timedelta(0):
            raise ValueError(
                f"buffers, notice and horizon must not be negative: {self}"
            )


def free_slots(
    *,
    zone: ZoneInfo,
    weekly: Mapping[int, Sequence[Window]],
    exceptions: Mapping[dt.date, Sequence[Window]],
    holidays: Collection[dt.date],
    busy: Sequence[Interval],
    rules: SlotRules,
    now: dt.datetime,
    until: dt.datetime | None = None,
    since: dt.datetime | None = None,
) -> list[Interval]:
    """The appointments that can be booked, by the rules in this module's docstring.

    `weekly` maps a weekday (0 is Monday) to its windows; `busy` holds bookings,
    already widened by their own buffers, and calendar busy time. Only starts in
    [`since`, `until`) are given, when those are set (a page of later days).
    Raises ValueError for a naive `now`, `since` or `until`.
    """
    if not all(_is_aware(moment) for moment in (now, since, until) if moment):
        raise ValueError("now, since and until must be aware datetimes")
    # Arithmetic on an aware datetime in a local zone moves its wall clock, not
    # time: in UTC, adding an hour always adds an hour.
    earliest = now.astimezone(dt.UTC) + rules.min_notice
    if since is not None:
        earliest = max(earliest, since.astimezone(dt.UTC))
    latest = now.astimezone(dt.UTC) + rules.horizon
    until = None if until is None else until.astimezone(dt.UTC)
    last = latest if until is None else min(latest, until)
    taken = _Taken(busy)

    starts: set[dt.datetime] = set()
    day = earliest.astimezone(zone).date()
    while day <= last.astimezone(zone).date():
        for window in _windows_of(day, weekly, exceptions, holidays):
            for start in _starts(day, window, zone, rules):
                if not earliest <= start <= latest:
                    continue
                if until is not None and start >= until:
                    continue
                end = start + rules.duration
                if not taken.overlaps(
                    start - rules.buffer_before, end + rules.buffer_after
                ):
                    starts.add(start)
        day += dt.timedelta(days=1)
    # A set, since overlapping windows of a day can offer the same start twice.
    return [Interval(start, start + rules.duration) for start in sorted(starts)]


def _windows_of(
    day: dt.date,
    weekly: Mapping[int, Sequence[Window]],
    exceptions: Mapping[dt.date, Sequence[Window]],
    holidays: Collection[dt.date],
) -> Sequence[Window]:
    if day in holidays:
        return ()
    if day in exceptions:
        return exceptions[day]
    return weekly.get(day.weekday(), ())


def _starts(
    day: dt.date, window: Window, zone: ZoneInfo, rules: SlotRules
) -> Iterator[dt.datetime]:
    """The UTC starts on `window`'s wall-clock grid whose appointment ends by its
    close. Every start is at or after the window's opening, so only the close is
    checked."""
    closes = _closing(dt.datetime.combine(day, window.end), zone)
    wall = dt.datetime.combine(day, window.start)
    last = dt.datetime.combine(day, window.end)
    while wall < last:
        start = _only_instant(wall, zone)
        if start is not None and start + rules.duration <= closes:
            yield start
        wall += rules.step


def _only_instant(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    """The UTC instant a naive wall-clock time names in `zone`; None if the clock
    skips it or shows it twice."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    # zoneinfo gives the two readings of a wall time different offsets exactly
    # when the time falls in a gap or a fold.
    if first.utcoffset() != second.utcoffset():
        return None
    return first.astimezone(dt.UTC)


def _closing(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first UTC instant at which the clock in `zone` reads `wall` or later."""
    # fold=0 is the first of two readings in an autumn fold.
    first = wall.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # The spring change skips `wall`. zoneinfo names it with the offset before
    # the change and with the one after; the jump lies between those instants.
    second = wall.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    return _jump(min(first, second), max(first, second), zone)


def _jump(before: dt.datetime, after: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first instant in (before, after] with `after`'s UTC offset in `zone`;
    both given in UTC, where halving a span halves time."""
    # zoneinfo lists no transitions, so bisect: about 32 halvings of an hour, and
    # only for a window that ends in a skipped hour.
    offset = after.astimezone(zone).utcoffset()
    while after - before > _TICK:
        middle = before + (after - before) // 2
        if middle.astimezone(zone).utcoffset() == offset:
            after = middle
        else:
            before = middle
    return after


class _Taken:
    """Busy time merged into disjoint, sorted intervals, for overlap look-ups in
    O(log n) per slot instead of a scan of every interval."""

    def __init__(self, busy: Sequence[Interval]) -> None:
        self._starts: list[dt.datetime] = []
        self._ends: list[dt.datetime] = []
        spans = sorted(
            (interval.start.astimezone(dt.UTC), interval.end.astimezone(dt.UTC))
            for interval in busy
            if interval.start < interval.end  # an empty interval overlaps nothing
        )
        for start, end in spans:
            # Touching intervals merge too: whatever overlaps the union overlaps
            # one of them.
            if self._ends and start <= self._ends[-1]:
                self._ends[-1] = max(self._ends[-1], end)
            else:
                self._starts.append(start)
                self._ends.append(end)

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether [start, end) overlaps busy time (touching does not)."""
        # The first busy interval that ends after `start` is the only candidate:
        # the ones before it end too early, the ones after start later.
        index = bisect.bisect_right(self._ends, start)
        return index < len(self._starts) and self._starts[index] < end
