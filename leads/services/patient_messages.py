"""Emails to the person behind a lead about their enquiry, in their language, once.

Sent through the outbox (core.outbox). They are about the person's own enquiry, not
marketing. They name a treatment at most, never an answer or a reason.
"""

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.models import DeliveryStatus
from core.outbox import MAIL_ERRORS, RetryPolicy, Unsendable, outbox_due, outbox_send
from core.queueing import enqueue_on_commit
from intake.selectors.questionnaires import treatment_name
from leads.models import Lead, LeadEvent, PatientMessage
from leads.tasks import patient_message_send_task

TEMPLATES = {
    PatientMessage.Kind.TREATMENT_DECLINED: (
        "leads/email/patient_treatment_declined.txt"
    ),
}
# Doubling waits from a minute up to an hour, eight attempts: about four hours.
POLICY = RetryPolicy()


def patient_message_queue(*, lead: Lead, kind: str, topic: str = "") -> bool:
    """Write a message in the caller's transaction and send it once that commits;
    False when this lead already had this kind of message about this topic."""
    message, created = PatientMessage.objects.get_or_create(
        lead=lead, kind=kind, topic=topic
    )
    if created:
        enqueue_on_commit(patient_message_send_task, message.pk)
    return created


def patient_message_send(*, message_id: int) -> bool:
    """Send one due message and put it on the lead's timeline; return whether this
    call delivered it. At least once, never concurrently (core.outbox)."""
    message = outbox_send(
        PatientMessage,
        pk=message_id,
        send=_email_send,
        transient=MAIL_ERRORS,
        policy=POLICY,
        related=("lead__location",),
    )
    if message is None or message.status != DeliveryStatus.SENT:
        return False
    LeadEvent.objects.create(
        lead_id=message.lead_id,
        kind=LeadEvent.Kind.EMAIL_SENT,
        data={"message": message.kind, "topic": message.topic},
    )
    return True


def patient_message_send_due(*, now: dt.datetime | None = None) -> int:
    """Hand the broker the messages that are due; return how many."""
    due = outbox_due(PatientMessage, policy=POLICY, now=now or timezone.now())
    for message_id in due:
        patient_message_send_task.delay(message_id)
    return len(due)


def _language(lead: Lead) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    return lead.preferred_language if lead.preferred_language in known else "en"


def _email_send(message: PatientMessage) -> None:
    lead = message.lead
    if not lead.email:
        raise Unsendable(f"lead {lead.pk} has no email address")
    with translation.override(_language(lead)):
        subject = _("About your enquiry at %(clinic)s") % {
            "clinic": settings.CLINIC_NAME
        }
        body = render_to_string(
            TEMPLATES[PatientMessage.Kind(message.kind)],
            {
                "name": lead.full_name,
                "treatment": treatment_name(message.topic),
                "phone": lead.location.phone,
                "clinic_name": settings.CLINIC_NAME,
            },
        )
    send_mail(subject, body, None, [lead.email])
