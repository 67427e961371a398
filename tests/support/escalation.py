"""Leads and staff built directly in the database, for deadline and email tests."""

import datetime as dt
from typing import Any

from django.contrib.auth.models import User

from clinics.models import Location, StaffMember
from clinics.workinghours import WEEKDAYS
from leads.models import Lead
from tests.support.factories import LeadFactory, LocationFactory, StaffMemberFactory

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
    user_fields = {} if email is None else {"user__email": email}
    member = StaffMemberFactory.create(
        role=role,
        locations=list(locations),
        is_lead_coordinator=is_lead_coordinator,
        **user_fields,
    )
    return member.user


def lead(
    *, location: Location, due_at: dt.datetime, owner: User | None = None, **fields: Any
) -> Lead:
    """A high-priority English lead, due at `due_at`."""
    fields.setdefault("preferred_language", "en")
    fields.setdefault("priority", Lead.Priority.HIGH)
    return LeadFactory.create(
        location=location, first_contact_due_at=due_at, owner=owner, **fields
    )
