"""Leads and staff built directly in the database, for deadline and email tests."""

import datetime as dt
import itertools
from typing import Any

from django.contrib.auth.models import User

from leads.models import Lead, Location, StaffMember
from leads.workinghours import WEEKDAYS
from tests.factories import LocationFactory, StaffUserFactory

_numbers = itertools.count(1)
ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in WEEKDAYS}


def open_location(slug: str, **fields: Any) -> Location:
    """A location open around the clock in UTC, so that minutes are clock minutes."""
    fields.setdefault("opening_hours", ALWAYS_OPEN)
    fields.setdefault("time_zone", "UTC")
    return LocationFactory.create(slug=slug, **fields)


def staff(
    *,
    role: str = StaffMember.Role.COORDINATOR,
    locations: tuple[Location, ...] = (),
    is_lead_coordinator: bool = False,
    email: str | None = None,
) -> User:
    user = StaffUserFactory.create()
    if email is not None:
        user.email = email
        user.save(update_fields=["email"])
    member = StaffMember.objects.create(
        user=user, role=role, is_lead_coordinator=is_lead_coordinator
    )
    member.locations.set(locations)
    return user


def lead(
    *, location: Location, due_at: dt.datetime, owner: User | None = None, **fields: Any
) -> Lead:
    number = next(_numbers)
    email = f"patient{number}@example.com"
    defaults: dict[str, Any] = {
        "full_name": f"Patient Number{number}",
        "email": email,
        "email_key": email,
        "phone": f"+90532{number:07d}",
        "preferred_language": "en",
        "priority": Lead.Priority.HIGH,
    }
    return Lead.objects.create(
        location=location,
        first_contact_due_at=due_at,
        owner=owner,
        **{**defaults, **fields},
    )
