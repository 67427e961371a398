"""The hand-off from booking: a booking made, moved or cancelled, on the lead.

The booking app (above leads) calls these inside the transaction that writes the
booking, with a digest of it; leads never imports booking.
"""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import User

from leads.models import Lead, LeadEvent
from leads.pipeline import Status, booking_moves_to_booked
from leads.services.locks import lead_lock_open
from leads.services.timeline import lead_status_record
from leads.webhooks.services import webhook_event_record


@dataclass(frozen=True)
class BookingDigest:
    """A booking as the lead's timeline and webhooks tell it: no health data."""

    code: uuid.UUID
    treatment: str
    appointment: str  # the appointment type's name, in English
    practitioner: str
    location: str  # the location's slug
    starts_at: dt.datetime
    ends_at: dt.datetime
    # How far routing went for the practitioner: language, any_language or
    # other_location (booking.selectors.Routing).
    routing: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            **({"routing": self.routing} if self.routing else {}),
            "booking": str(self.code),
            "treatment": self.treatment,
            "appointment": self.appointment,
            "practitioner": self.practitioner,
            "location": self.location,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
        }


def lead_booking_record(
    *,
    lead: Lead,
    booking: BookingDigest,
    change: str,
    actor: User | None,
    still_booked: bool = True,
) -> Lead:
    """Put a booking `change` (created, rescheduled, cancelled, attended) on the
    lead's timeline and to webhooks. A booking made moves an open lead to booked
    from any open status: booking is the step every earlier one leads to. A
    cancellation that leaves the lead nothing booked (`still_booked` False) moves a
    booked lead back to qualified, to be booked again; a session attended moves a
    booked lead on to in treatment."""
    lead = lead_lock_open(lead)
    if change == "created" and booking_moves_to_booked(lead.status):
        # They booked: nobody needs to call before the visit.
        lead_status_record(
            lead=lead, to_status=Status.BOOKED, actor=actor, first_contact=True
        )
    elif change == "cancelled" and not still_booked and lead.status == Status.BOOKED:
        lead_status_record(lead=lead, to_status=Status.QUALIFIED, actor=actor)
    elif change == "attended" and lead.status == Status.BOOKED:
        lead_status_record(lead=lead, to_status=Status.IN_TREATMENT, actor=actor)
    LeadEvent.objects.create(
        lead=lead,
        kind=LeadEvent.Kind.BOOKING,
        actor=actor,
        data={"change": change, **booking.to_dict()},
    )
    webhook_event_record(
        event_type=f"booking.{change}", lead=lead, data=booking.to_dict()
    )
    return lead
