"""Time zones from the pinned `tzdata` package, never the host's. No Django.

zoneinfo.ZoneInfo(name) reads the host's /usr/share/zoneinfo first and falls back
to the `tzdata` package only when the name is missing there (or PYTHONTZPATH is
set empty), so the host's database, updated on its own schedule, would decide
the clock changes. Booking pages, emails and .ics files must show the wall-clock
times the slot engine computed, so they and the engine load zones here, from the
one database pyproject.toml pins.

A zone loaded from a file cannot be pickled: pass UTC datetimes and zone names
between processes, never datetimes in these zones.
"""

import functools
import importlib.resources
import zoneinfo


@functools.cache
def clinic_zone(name: str) -> zoneinfo.ZoneInfo:
    """The time zone `name` ("Europe/Istanbul") as the pinned tzdata defines it,
    one object per name. Raises zoneinfo.ZoneInfoNotFoundError for a name that
    tzdata does not define."""
    # Only names from tzdata's own list reach the file system: no "../" paths.
    if name not in clinic_zone_names():
        raise zoneinfo.ZoneInfoNotFoundError(f"No time zone {name!r} in tzdata")
    resource = importlib.resources.files("tzdata.zoneinfo").joinpath(*name.split("/"))
    with resource.open("rb") as tzfile:
        return zoneinfo.ZoneInfo.from_file(tzfile, key=name)


@functools.cache
def clinic_zone_names() -> frozenset[str]:
    """Every zone name the pinned tzdata defines."""
    listing = importlib.resources.files("tzdata").joinpath("zones")
    return frozenset(listing.read_text(encoding="utf-8").split())
