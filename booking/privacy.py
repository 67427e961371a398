"""Booking's part of a person's data (core.privacy): their appointments. A
booking and its calendar events name the lead only by its reference, so an
erasure leaves them, counted, as they are."""

from typing import Any

from django.contrib.auth.models import User

from booking.models import Booking
from core.privacy import Person


def booking_person_export(person: Person, user: User) -> dict[str, Any]:
    """Every appointment booked for the person, oldest first."""
    bookings = (
        Booking.objects.filter(lead_id__in=person.lead_ids)
        .select_related("appointment_type", "practitioner", "location")
        .order_by("starts_at", "pk")
    )
    return {
        "bookings": [
            {
                "appointment": booking.appointment_type.name_en,
                "practitioner": booking.practitioner.display_name,
                "location": booking.location.name,
                "starts_at": booking.starts_at.isoformat(),
                "status": booking.status,
                "booked_at": booking.created_at.isoformat(),
            }
            for booking in bookings
        ]
    }


def booking_person_erase(person: Person) -> dict[str, int]:
    """Nothing to blank: no booking row or event holds a name or an answer."""
    return {}
