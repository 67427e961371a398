"""Follow-ups' part of a person's data (core.privacy): the messages sent to them.
No message keeps its words or address (each is rendered when it is sent), so an
erasure stops what is still to come and keeps the record of what went."""

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from core.models import DeliveryStatus
from core.privacy import Person
from followups.models import Enrollment, FollowUpMessage
from followups.services import enrollment_stop


def followups_person_export(person: Person, user: User) -> dict[str, Any]:
    """Every message made for the person: what kind, from which step, its state."""
    messages = (
        FollowUpMessage.objects.filter(lead_id__in=person.lead_ids)
        .select_related("step")
        .order_by("created_at", "pk")
    )
    return {
        "messages": [
            {
                "category": message.category,
                "template": message.step.template_key,
                "status": message.status,
                "created_at": message.created_at.isoformat(),
                "sent_at": message.sent_at.isoformat() if message.sent_at else None,
            }
            for message in messages
        ]
    }


def followups_person_erase(person: Person) -> dict[str, int]:
    """No more messages: the unsent are skipped and the sequences stopped."""
    now = timezone.now()
    return {
        "messages not sent": FollowUpMessage.objects.filter(
            lead_id__in=person.lead_ids, status=DeliveryStatus.PENDING
        ).update(status=DeliveryStatus.SKIPPED),
        "sequences stopped": enrollment_stop(
            enrollments=Enrollment.objects.filter(lead_id__in=person.lead_ids),
            because="erased",
            now=now,
        ),
    }
