"""Emails to staff about leads, sent through the outbox (core.outbox).

Emails name the lead and link to it; they never carry health data.
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.models import DeliveryStatus
from core.outbox import MAIL_ERRORS, RetryPolicy, Unsendable, outbox_due, outbox_send
from core.queueing import enqueue_on_commit
from core.zones import clinic_zone
from leads.models import Lead, StaffNotification
from leads.tasks import staff_notification_send_task

BODY_TEMPLATE = "leads/email/staff_notification.txt"
# Doubling waits from a minute up to an hour, eight attempts: about four hours.
POLICY = RetryPolicy()


def staff_notification_queue(
    *, recipient: User, lead: Lead, kind: str
) -> StaffNotification:
    """Write a notification in the caller's transaction; send it once that commits.

    Rolled back with the caller's change, so no email announces a change that did
    not happen. Raises ValueError for a kind StaffNotification does not know.
    """
    if kind not in StaffNotification.Kind.values:
        raise ValueError(f"unknown staff notification kind {kind!r}")
    notification = StaffNotification.objects.create(
        recipient=recipient, lead=lead, kind=kind
    )
    enqueue_on_commit(staff_notification_send_task, notification.pk)
    return notification


def staff_notification_send(*, notification_id: int) -> bool:
    """Send one due notification; return whether this call delivered it.

    At least once, never concurrently (core.outbox): a reminder twice beats a
    missed one. A recipient without an email address fails at once.
    """
    notification = outbox_send(
        StaffNotification,
        pk=notification_id,
        send=_email_send,
        transient=MAIL_ERRORS,
        policy=POLICY,
        related=("recipient", "lead__location", "lead__owner"),
    )
    return notification is not None and notification.status == DeliveryStatus.SENT


def staff_notification_send_due(*, now: dt.datetime | None = None) -> int:
    """Hand the broker the notifications that are due; return how many.

    Sending one twice is harmless: `staff_notification_send` claims before it sends.
    """
    due = outbox_due(StaffNotification, policy=POLICY, now=now or timezone.now())
    for notification_id in due:
        staff_notification_send_task.delay(notification_id)
    return len(due)


def _email_send(notification: StaffNotification) -> None:
    address = notification.recipient.email
    if not address:
        raise Unsendable(f"user {notification.recipient.pk} has no email address")
    subject, body = _message(notification)
    send_mail(subject, body, None, [address])


def _message(notification: StaffNotification) -> tuple[str, str]:
    """Subject and body: the lead's reference and priority in the subject (which
    mail servers log and phones show on a locked screen), the name, the deadline
    and a link in the body, no more."""
    lead = notification.lead
    zone = clinic_zone(lead.location.time_zone)
    with translation.override(settings.LANGUAGE_CODE), timezone.override(zone):
        subject = _("%(what)s: lead %(reference)s, %(priority)s priority") % {
            "what": notification.get_kind_display(),
            "reference": lead.reference,
            "priority": lead.get_priority_display().lower(),
        }
        body = render_to_string(
            BODY_TEMPLATE,
            {
                "kind": notification.kind,
                "lead": lead,
                "location": lead.location,
                "due_at": lead.first_contact_due_at,
                "time_zone": lead.location.time_zone,
                "link": _lead_link(lead),
                "clinic_name": settings.CLINIC_NAME,
            },
        )
    return subject, body


def _lead_link(lead: Lead) -> str:
    site_url: str = settings.SITE_URL
    return site_url.rstrip("/") + reverse("admin:leads_lead_change", args=[lead.pk])
