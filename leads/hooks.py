"""What leads announces to the apps above it (core/hooks.py says how).

Leads imports no app above it: it announces, inside the transaction that writes the
lead's timeline, the events just written; follow-ups subscribes (FollowupsConfig).
"""

from dataclasses import dataclass

from core.hooks import Hook
from leads.models import LeadEvent


@dataclass(frozen=True)
class LeadEventsRecorded:
    """Timeline events just written (saved, with their ids), in order."""

    events: tuple[LeadEvent, ...]


lead_events_recorded: Hook[LeadEventsRecorded] = Hook("lead_events_recorded")
