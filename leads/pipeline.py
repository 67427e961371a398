"""The lead pipeline: which status may follow which. The one place that says so.

Pure Python: the statuses are Lead.Status's codes, in pipeline order (a test keeps the
two the same); the model adds their labels.
"""

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    AWAITING_REVIEW = "awaiting_review"
    BOOKED = "booked"
    IN_TREATMENT = "in_treatment"
    COMPLETED = "completed"
    LOST = "lost"
    DISQUALIFIED = "disqualified"


ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(
        {Status.CONTACTED, Status.AWAITING_REVIEW, Status.LOST, Status.DISQUALIFIED}
    ),
    Status.CONTACTED: frozenset(
        {Status.QUALIFIED, Status.AWAITING_REVIEW, Status.LOST, Status.DISQUALIFIED}
    ),
    Status.QUALIFIED: frozenset(
        {Status.AWAITING_REVIEW, Status.BOOKED, Status.LOST, Status.DISQUALIFIED}
    ),
    Status.AWAITING_REVIEW: frozenset(
        {Status.QUALIFIED, Status.LOST, Status.DISQUALIFIED}
    ),
    # Back to qualified when a booking is cancelled without a new one.
    Status.BOOKED: frozenset({Status.IN_TREATMENT, Status.QUALIFIED, Status.LOST}),
    Status.IN_TREATMENT: frozenset({Status.COMPLETED, Status.LOST}),
    Status.COMPLETED: frozenset(),
    # A lost lead who answers again is picked up where contact stopped.
    Status.LOST: frozenset({Status.CONTACTED}),
    Status.DISQUALIFIED: frozenset(),
}

# A person with a lead in one of these statuses has an open enquiry: their next
# submission joins it instead of starting a new lead.
OPEN_STATUSES = frozenset(
    {
        Status.NEW,
        Status.CONTACTED,
        Status.QUALIFIED,
        Status.AWAITING_REVIEW,
        Status.BOOKED,
        Status.IN_TREATMENT,
    }
)


def transition_allowed(from_status: str, to_status: str) -> bool:
    """True when the pipeline lets a lead go from `from_status` to `to_status`."""
    return to_status in ALLOWED_TRANSITIONS.get(from_status, frozenset())


def next_statuses(from_status: str) -> list[str]:
    """The statuses a lead in `from_status` may move to, in pipeline order."""
    allowed = ALLOWED_TRANSITIONS.get(from_status, frozenset())
    return [status.value for status in Status if status in allowed]


def booking_moves_to_booked(status: str) -> bool:
    """A booking made moves the lead to booked from any open status: booking is the
    step every earlier one leads to, and a patient who books themselves skips them."""
    return status in OPEN_STATUSES and status != Status.BOOKED


class Readiness(StrEnum):
    """What the screening says of booking, apart from the contact progress."""

    NOW = "now"  # a treatment is eligible: bookable today
    AFTER_REVIEW = "after_review"  # a physician decides first
    LATER = "later"  # deferred: bookable from its date or condition on
    NOT_AT_ALL = "not_at_all"  # every treatment contraindicated, or none asked


def booking_readiness(
    treatments: Iterable[tuple[str, dt.date | None]], *, today: dt.date
) -> Readiness:
    """The best the lead's treatments (outcome, and a deferral's first bookable
    day) allow: eligible, or a deferral that has ended, else review, else deferred."""
    found = set()
    for outcome, bookable_from in treatments:
        ended = outcome == "deferred" and bookable_from and bookable_from <= today
        found.add("eligible" if ended else outcome)
    if "eligible" in found:
        return Readiness.NOW
    if "review" in found:
        return Readiness.AFTER_REVIEW
    if "deferred" in found:
        return Readiness.LATER
    return Readiness.NOT_AT_ALL
