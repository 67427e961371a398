"""Follow-up messages: made from the lead's timeline in its transaction, sent
through the outbox, stopped for whoever asked.

`followups_events_receive` runs inside the transaction that writes the timeline
events (leads.hooks.lead_events_recorded): the messages commit with the event or
not at all, and the ones due at once are handed to a worker after the commit. The
rest wait in the database, picked by the due sweep when their time comes.
"""

import datetime as dt
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from core.models import DeliveryStatus
from core.outbox import MAIL_ERRORS, RetryPolicy, Unsendable, outbox_due, outbox_send
from core.queueing import enqueue_on_commit
from followups.models import (
    Category,
    FollowUpMessage,
    MessageTemplate,
    Step,
    Suppression,
    Trigger,
)
from followups.rendering import template_render
from followups.selectors import followup_values, message_language, suppression_get
from followups.tasks import followup_message_send_task
from followups.unsubscribe import unsubscribe_url
from leads.hooks import LeadEventsRecorded
from leads.models import LeadEvent

POLICY = RetryPolicy()
# What each trigger answers to on the lead's timeline.
TRIGGER_OF_EVENT: dict[str, Trigger] = {
    LeadEvent.Kind.SUBMITTED: Trigger.SUBMISSION_RECEIVED
}
# Due this soon: handed to a worker at commit rather than waiting for the sweep.
AT_ONCE = dt.timedelta(seconds=5)


def followups_events_receive(recorded: LeadEventsRecorded) -> None:
    """Make the messages of every active sequence that the events trigger, one per
    lead, step and event, in the caller's transaction."""
    events = [event for event in recorded.events if event.kind in TRIGGER_OF_EVENT]
    if not events:
        return
    steps = list(
        Step.objects.filter(
            sequence__is_active=True,
            sequence__trigger__in={TRIGGER_OF_EVENT[e.kind] for e in events},
        ).select_related("sequence")
    )
    messages = FollowUpMessage.objects.bulk_create(
        FollowUpMessage(
            lead_id=event.lead_id,
            step=step,
            event=event,
            occurrence=f"event:{event.pk}",
            category=step.sequence.category,
            next_attempt_at=event.created_at + dt.timedelta(minutes=step.delay_minutes),
        )
        for event in events
        for step in steps
        if step.sequence.trigger == TRIGGER_OF_EVENT[event.kind]
    )
    soon = timezone.now() + AT_ONCE
    for message in messages:
        if message.next_attempt_at <= soon:
            enqueue_on_commit(followup_message_send_task, message.pk)


def followup_message_send(*, message_id: int) -> bool:
    """Send one due message; whether this call delivered it (at least once, never
    concurrently: core.outbox)."""
    message = outbox_send(
        FollowUpMessage,
        pk=message_id,
        send=_send,
        transient=MAIL_ERRORS,
        policy=POLICY,
        related=("lead__location", "step__sequence", "event__submission"),
        record=("message_id",),
    )
    return message is not None and message.status == DeliveryStatus.SENT


def followup_send_due(*, now: dt.datetime | None = None) -> int:
    """Hand the broker the messages that are due; how many."""
    due = outbox_due(FollowUpMessage, policy=POLICY, now=now or timezone.now())
    for message_id in due:
        followup_message_send_task.delay(message_id)
    return len(due)


def _send(message: FollowUpMessage) -> None:
    lead = message.lead
    if not lead.email:
        raise Unsendable(f"lead {lead.pk} has no email address")
    _check_allowed(message)
    language = message_language(lead)
    found = {
        template.language: template
        for template in MessageTemplate.objects.filter(
            key=message.step.template_key, language__in=[language, "en"]
        )
    }
    template = found.get(language) or found.get("en")
    if template is None:
        raise Unsendable(f"no template {message.step.template_key!r}")
    unsubscribe = unsubscribe_url(lead_code=lead.code, language=language)
    text_values, html_values = followup_values(
        message, language=language, unsubscribe=unsubscribe
    )
    # One Message-ID for every attempt: a receiver can drop a duplicate.
    message.message_id = message.message_id or make_msgid(
        f"followup.{message.pk}", domain=settings.CALENDAR_UID_DOMAIN
    )
    email = EmailMultiAlternatives(
        subject=" ".join(template_render(template.subject, text_values).split()),
        body=template_render(template.text_body, text_values),
        to=[lead.email],
        headers={
            "Message-ID": message.message_id,
            # RFC 8058: mail apps offer "unsubscribe"; their POST needs no login.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(
        template_render(template.html_body, html_values, html_part=True), "text/html"
    )
    email.send()


def _check_allowed(message: FollowUpMessage) -> None:
    """Unsendable for an address that asked to stop, or marketing without consent."""
    marketing = message.category == Category.MARKETING
    stopped = suppression_get(email_key=message.lead.email_key)
    if stopped and (stopped.scope == Suppression.Scope.ALL or marketing):
        raise Unsendable(f"suppressed: {stopped.reason}")
    submission = message.event.submission if message.event else None
    if marketing and not (submission and submission.consent_marketing):
        raise Unsendable("no marketing consent")


def suppression_set(*, email_key: str, scope: str | None) -> None:
    """Stop follow-ups to `email_key` (`scope`: marketing or all), or, with None,
    let them go again (the person changed their mind)."""
    if scope is None:
        Suppression.objects.filter(
            email_key=email_key, reason=Suppression.Reason.UNSUBSCRIBED
        ).delete()
        return
    Suppression.objects.update_or_create(
        email_key=email_key,
        defaults={
            "scope": scope,
            "reason": Suppression.Reason.UNSUBSCRIBED,
            "updated_at": timezone.now(),
        },
    )
