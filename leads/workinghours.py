"""Deadlines counted in a location's opening hours, in its time zone. No Django."""

import datetime as dt
from collections.abc import Mapping, Sequence


def deadline_after(
    start: dt.datetime,
    *,
    working_minutes: int,
    opening_hours: Mapping[str, Sequence[Sequence[str]]],
    time_zone: str,
) -> dt.datetime:
    """The aware moment `working_minutes` of opening hours after `start`."""
    raise NotImplementedError
