"""A lead's timeline in words, in the staff member's language and the location's
time: what the pages show instead of event codes and JSON."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intake.selectors.questionnaires import treatment_name
from leads.models import Lead, LeadEvent
from staff.forms import CALL_OUTCOMES

BOOKING_CHANGES = {
    "created": gettext_lazy("Booked"),
    "rescheduled": gettext_lazy("Moved"),
    "cancelled": gettext_lazy("Cancelled"),
    "attended": gettext_lazy("Attended"),
}


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime  # in the location's time zone
    what: str  # the event in words
    text: str  # what a person wrote (a note, a call's summary)
    who: str


def timeline_entries(events: list[LeadEvent], *, zone: ZoneInfo) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            at=event.created_at.astimezone(zone),
            what=event_words(event, zone=zone),
            text=event.text,
            who=(event.actor.get_full_name() or event.actor.get_username())
            if event.actor
            else "",
        )
        for event in events
    ]


def event_words(event: LeadEvent, *, zone: ZoneInfo) -> str:
    """One event as a coordinator reads it."""
    data, kind = event.data, event.kind
    statuses = dict(Lead.Status.choices)
    if kind == LeadEvent.Kind.STATUS_CHANGED:
        moved = _("Status: %(from)s → %(to)s") % {
            "from": statuses.get(data.get("from") or "", "—"),
            "to": statuses.get(data.get("to") or "", data.get("to") or "—"),
        }
        reason = data.get("lost_reason")
        if reason:
            moved += f" ({dict(Lead.LostReason.choices).get(reason, reason)})"
        return moved
    if kind == LeadEvent.Kind.ASSIGNED:
        if data.get("to"):
            return _("Assigned to %(owner)s") % {"owner": data["to"]}
        return _("Back to the unassigned queue")
    if kind == LeadEvent.Kind.CALL:
        outcome = dict(CALL_OUTCOMES).get(data.get("outcome", ""), data.get("outcome"))
        return _("Call: %(outcome)s") % {"outcome": outcome}
    if kind == LeadEvent.Kind.BOOKING:
        starts = data.get("starts_at")
        when = (
            dt.datetime.fromisoformat(starts)
            .astimezone(zone)
            .strftime("%d.%m.%Y %H:%M")
            if starts
            else ""
        )
        return f"{BOOKING_CHANGES.get(data.get('change', ''), _('Booking'))}: " + (
            f"{data.get('appointment', '')}, {when}, {data.get('practitioner', '')}"
        )
    if kind == LeadEvent.Kind.PHYSICIAN_DECISION:
        treatment = treatment_name(data.get("treatment", ""))
        if data.get("decision") == "cleared":
            return _("%(treatment)s cleared by a physician") % {"treatment": treatment}
        return _("%(treatment)s declined by a physician") % {"treatment": treatment}
    if kind == LeadEvent.Kind.ESCALATED:
        return _("Escalated: first contact is late (level %(level)s)") % {
            "level": data.get("level", "")
        }
    if kind == LeadEvent.Kind.EMAIL_UNDELIVERABLE:
        return _("Email undeliverable: call instead")
    if kind == LeadEvent.Kind.SUBMITTED and "score" in data:
        return _("Questionnaire submitted (score %(score)s, priority %(priority)s)") % {
            "score": data["score"],
            "priority": dict(Lead.Priority.choices).get(
                data.get("priority", ""), data.get("priority", "")
            ),
        }
    return str(LeadEvent.Kind(kind).label) if kind in LeadEvent.Kind.values else kind
