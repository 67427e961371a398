"""The person's email address stopped working: said on their leads' timelines.

The one hand-off for the follow-ups app, which hears of bounces and spam complaints
from the mail provider's webhooks (followups.services.email_event_receive).
"""

from leads.models import Lead, LeadEvent
from leads.selectors import lead_email_key


def lead_email_undeliverable_record(*, email: str, reason: str) -> str:
    """A timeline event on every lead with this address (as matching compares
    addresses) that is not merged away, so coordinators see why emails stop and call
    instead. Returns the address's email key."""
    key = lead_email_key(email)
    LeadEvent.objects.bulk_create(
        LeadEvent(
            lead=lead, kind=LeadEvent.Kind.EMAIL_UNDELIVERABLE, data={"reason": reason}
        )
        for lead in Lead.objects.filter(email_key=key, merged_into__isnull=True).only(
            "pk"
        )
    )
    return key
