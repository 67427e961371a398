"""What staff record on a lead: a move along the pipeline, a note, a call.

Every change writes its timeline event in the same transaction; webhooks and emails
are written to the database there too and leave only after the commit.
"""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import BusinessError
from leads.hooks import LeadEventsRecorded, lead_events_recorded
from leads.models import Lead, LeadEvent
from leads.pipeline import next_statuses, transition_allowed
from leads.services.locks import lead_lock_open
from leads.webhooks.services import webhook_event_record


class TransitionNotAllowed(BusinessError):
    code = "transition_not_allowed"


class LostReasonRequired(BusinessError):
    code = "lost_reason_required"


class CallOutcome:
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    ALL = (REACHED, NO_ANSWER, VOICEMAIL, WRONG_NUMBER)


def lead_transition(
    *,
    lead: Lead,
    to_status: str,
    actor: User,
    lost_reason: str = "",
    note: str = "",
) -> Lead:
    """Move a lead along the pipeline (leads.pipeline says where it may go), on the
    timeline and to webhooks. "lost" needs a reason from Lead.LostReason."""
    with transaction.atomic():
        lead = lead_lock_open(lead)
        from_status = lead.status
        if not transition_allowed(from_status, to_status):
            allowed = next_statuses(from_status)
            raise TransitionNotAllowed(
                f"A lead that is “{lead.get_status_display()}” cannot move to "
                f"“{_status_label(to_status)}”.",
                fields={
                    "to_status": [
                        "Choose one of: " + ", ".join(allowed) + "."
                        if allowed
                        else "This lead is closed; it cannot move on."
                    ]
                },
            )
        if to_status == Lead.Status.LOST and lost_reason not in Lead.LostReason.values:
            raise LostReasonRequired(
                "Say why the lead was lost.",
                fields={
                    "lost_reason": [
                        "Choose one of: " + ", ".join(Lead.LostReason.values) + "."
                    ]
                },
            )
        lead_status_record(
            lead=lead,
            to_status=to_status,
            actor=actor,
            lost_reason=lost_reason,
            note=note,
            first_contact=to_status == Lead.Status.CONTACTED,
        )
    return lead


def lead_status_record(
    *,
    lead: Lead,
    to_status: str,
    actor: User | None,
    lost_reason: str = "",
    note: str = "",
    first_contact: bool = False,
) -> None:
    """Move a locked lead to `to_status`, on the timeline and to webhooks, without
    asking the pipeline (the caller has: lead_transition, or a booking made).
    `first_contact`: this move meets the first-contact deadline if nothing had."""
    now = timezone.now()
    from_status = lead.status
    lead.status = to_status
    lead.lost_reason = lost_reason if to_status == Lead.Status.LOST else ""
    lead.status_changed_at = now
    if first_contact and lead.first_contacted_at is None:
        lead.first_contacted_at = now
    lead.save(
        update_fields=[
            "status", "lost_reason", "status_changed_at", "first_contacted_at",
            "updated_at",
        ]
    )  # fmt: skip
    data = {"from": from_status, "to": to_status}
    if lead.lost_reason:
        data["lost_reason"] = lead.lost_reason
    moved = LeadEvent.objects.create(
        lead=lead,
        kind=LeadEvent.Kind.STATUS_CHANGED,
        actor=actor,
        text=note.strip(),
        data=data,
        created_at=now,
    )
    lead_events_recorded.announce(LeadEventsRecorded((moved,)))
    webhook_event_record(
        event_type="lead.status_changed",
        lead=lead,
        data={"from": from_status, "to": to_status},
    )


def _status_label(status: str) -> str:
    return str(dict(Lead.Status.choices).get(status, status))


def lead_note_add(*, lead: Lead, text: str, actor: User) -> LeadEvent:
    """Add a staff note to the lead's timeline."""
    if not text.strip():
        raise BusinessError(
            "A note needs some text.", fields={"text": ["Write the note."]}
        )
    with transaction.atomic():
        lead = lead_lock_open(lead)
        return LeadEvent.objects.create(
            lead=lead, kind=LeadEvent.Kind.NOTE, actor=actor, text=text.strip()
        )


def lead_call_log(*, lead: Lead, outcome: str, summary: str, actor: User) -> LeadEvent:
    """Record a call. Any call attempt meets the first-contact deadline; a call that
    reached a new lead also moves it to "contacted"."""
    if outcome not in CallOutcome.ALL:
        raise BusinessError(
            "Say how the call went.",
            fields={"outcome": ["Choose one of: " + ", ".join(CallOutcome.ALL) + "."]},
        )
    with transaction.atomic():
        lead = lead_lock_open(lead)
        event = LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.CALL,
            actor=actor,
            text=summary.strip(),
            data={"outcome": outcome},
        )
        if lead.first_contacted_at is None:
            lead.first_contacted_at = event.created_at
            lead.save(update_fields=["first_contacted_at", "updated_at"])
        if outcome == CallOutcome.REACHED and lead.status == Lead.Status.NEW:
            lead_transition(lead=lead, to_status=Lead.Status.CONTACTED, actor=actor)
    return event
