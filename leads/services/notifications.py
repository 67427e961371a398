"""Emails to staff about leads: written to the database, sent by Celery, once.

A notification row is written in the transaction of the change that causes it and
sent by `staff_notification_send_task` after that commits. The row is the work:
`staff_notification_send_due` hands the broker again whatever is due, which covers
a broker that was down at commit, a worker that died mid-send, and retries.
Emails name the lead and link to it; they never carry health data.
"""

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db.models import F, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.queueing import enqueue_on_commit
from leads.models import DeliveryStatus, Lead, StaffNotification
from leads.tasks import staff_notification_send_task

logger = logging.getLogger(__name__)

# Longer than any one send takes (EMAIL_TIMEOUT is seconds): a row still "sending"
# after its lease belonged to a worker that died, and is sent again.
SEND_LEASE = dt.timedelta(minutes=5)
# Attempts before giving up: with the backoff below, about four hours of retries.
MAX_ATTEMPTS = 8
RETRY_FIRST_DELAY = dt.timedelta(minutes=1)
RETRY_MAX_DELAY = dt.timedelta(hours=1)
SEND_DUE_BATCH = 500
BODY_TEMPLATE = "leads/email/staff_notification.txt"

_ACTIVE = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


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

    At least once, never concurrently: a worker claims the row (pending, or sending
    with an expired lease) for SEND_LEASE before sending, so a redelivered or
    duplicate task finds nothing to do. A worker that dies after the mail server
    accepted the message but before the row says "sent" leaves it to be sent again
    when the lease runs out: a reminder twice beats a missed one. Every claim counts
    as an attempt; a mail error is retried with backoff, and the row is failed
    after MAX_ATTEMPTS.
    """
    now = timezone.now()
    claimed = StaffNotification.objects.filter(
        pk=notification_id, status__in=_ACTIVE, next_attempt_at__lte=now
    ).update(
        status=DeliveryStatus.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + SEND_LEASE,
    )
    if not claimed:
        return False
    notification = StaffNotification.objects.select_related(
        "recipient", "lead__location", "lead__owner"
    ).get(pk=notification_id)
    # The attempt number identifies this claim: a later claim (after this lease ran
    # out) increments it, and this worker's outcome no longer applies.
    mine = StaffNotification.objects.filter(
        pk=notification_id,
        status=DeliveryStatus.SENDING,
        attempts=notification.attempts,
    )
    if notification.attempts > MAX_ATTEMPTS:
        mine.update(
            status=DeliveryStatus.FAILED,
            last_error=f"gave up: {MAX_ATTEMPTS} attempts did not finish",
        )
        return False
    address = notification.recipient.email
    if not address:
        mine.update(
            status=DeliveryStatus.FAILED,
            last_error=f"user {notification.recipient.pk} has no email address",
        )
        logger.warning(
            "staff notification not sent: recipient has no email address",
            extra={"notification_id": notification_id},
        )
        return False
    subject, body = _message(notification)
    try:
        send_mail(subject, body, None, [address])
    except OSError as error:  # smtplib.SMTPException is an OSError
        _schedule_retry(
            mine,
            notification_id=notification_id,
            attempts=notification.attempts,
            error=error,
        )
        return False
    mine.update(status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="")
    return True


def staff_notification_send_due(*, now: dt.datetime | None = None) -> int:
    """Hand the broker the notifications that are due, oldest first and at most
    SEND_DUE_BATCH a run; return how many.

    Due: pending with its time come (never enqueued, or waiting for a retry), or
    sending with its lease over (the worker died). Sending one twice is harmless:
    `staff_notification_send` claims before it sends.
    """
    now = now or timezone.now()
    due = list(
        StaffNotification.objects.filter(status__in=_ACTIVE, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SEND_DUE_BATCH]
    )
    for notification_id in due:
        staff_notification_send_task.delay(notification_id)
    return len(due)


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling, capped."""
    return min(RETRY_FIRST_DELAY * (1 << max(attempts - 1, 0)), RETRY_MAX_DELAY)


def _schedule_retry(
    mine: QuerySet[StaffNotification],
    *,
    notification_id: int,
    attempts: int,
    error: OSError,
) -> None:
    """Back to pending after a backoff, or failed once MAX_ATTEMPTS are used up."""
    last_error = f"{type(error).__name__}: {error}"[:500]
    if attempts >= MAX_ATTEMPTS:
        mine.update(status=DeliveryStatus.FAILED, last_error=last_error)
        logger.error(
            "staff notification failed after %s attempts: %s",
            attempts,
            type(error).__name__,
            extra={"notification_id": notification_id},
        )
        return
    mine.update(
        status=DeliveryStatus.PENDING,
        next_attempt_at=timezone.now() + retry_delay(attempts),
        last_error=last_error,
    )


def _message(notification: StaffNotification) -> tuple[str, str]:
    """Subject and body: the lead's name, priority, deadline and a link, no more."""
    lead = notification.lead
    zone = ZoneInfo(lead.location.time_zone)
    with translation.override(settings.LANGUAGE_CODE), timezone.override(zone):
        subject = _("%(what)s: %(name)s, %(priority)s priority") % {
            "what": notification.get_kind_display(),
            "name": lead.full_name,
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
