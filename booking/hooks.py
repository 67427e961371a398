"""What booking announces to the apps above it (core/hooks.py says how).

Booking imports no app above it: it announces each booking made, moved or
cancelled inside the transaction that changes it; follow-ups subscribes
(FollowupsConfig) to remind the person before the visit and care for them after.
"""

from dataclasses import dataclass

from booking.models import Booking
from core.hooks import Hook


@dataclass(frozen=True)
class BookingChanged:
    """A booking just made, moved, cancelled or attended (`change`), as saved."""

    booking: Booking
    change: str  # created | rescheduled | cancelled | attended


booking_changed: Hook[BookingChanged] = Hook("booking_changed")
