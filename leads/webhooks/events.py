"""The webhook event types, in one registry, and the data each one carries.

Adding an event type is one line in `EVENT_TYPES`; the callers then record it with
`webhook_event_record(event_type=..., lead=..., data=...)`. No builder reads health
data: screening outcomes are added at sending, for endpoints allowed to receive them.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from leads.models import Lead

EventDataBuilder = Callable[[Lead, Mapping[str, Any]], dict[str, Any]]


def lead_snapshot(lead: Lead) -> dict[str, Any]:
    """The lead as integrators see it: contact details and pipeline state, no health
    data (no answers, no screening outcomes, no score breakdown)."""
    return {
        "code": str(lead.code),
        "status": lead.status,
        "priority": lead.priority,
        "score": lead.score,
        "location": lead.location.slug,
        "preferred_language": lead.preferred_language,
        "full_name": lead.full_name,
        "email": lead.email,
        "phone": lead.phone,
        "created_at": lead.created_at.isoformat(),
        "owner": lead.owner.username if lead.owner is not None else None,
    }


def lead_event_data(lead: Lead, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The lead's snapshot plus what the caller adds (e.g. `from` and `to`)."""
    return {"lead": lead_snapshot(lead), **extra}


@dataclass(frozen=True)
class EventType:
    label: StrOrPromise  # What the admin shows next to the event type's checkbox.
    build: EventDataBuilder


EVENT_TYPES: dict[str, EventType] = {
    "lead.created": EventType(_("A lead was created"), lead_event_data),
    "lead.status_changed": EventType(_("A lead's status changed"), lead_event_data),
    "booking.created": EventType(_("A booking was made"), lead_event_data),
    "booking.rescheduled": EventType(_("A booking was moved"), lead_event_data),
    "booking.cancelled": EventType(_("A booking was cancelled"), lead_event_data),
    "booking.attended": EventType(_("A booked session took place"), lead_event_data),
}
