"""First-contact deadlines and the escalation of overdue leads."""

import datetime as dt

from leads.models import Location


def first_contact_due_at(
    *, location: Location, priority: str, start: dt.datetime
) -> dt.datetime:
    """When a lead of `priority` created at `start` must have been contacted."""
    raise NotImplementedError
