"""Calendar arithmetic on plain dates. No Django."""

import calendar
import datetime as dt


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later (earlier when negative),
    clamped to the month's end: 31 January plus one month is 28 or 29 February."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))
