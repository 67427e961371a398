"""Save and finish later: the emailed link that resumes a draft, and opening it.

The email is an outbox row (intake.models.ResumeEmail, sent by core.outbox): at least
once, never concurrently. The link carries a signed token with no answers in it.
"""

import datetime as dt
import math
import uuid
from functools import reduce
from operator import or_

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clinics.selectors import clinic_branding_get
from core.addresses import address_network
from core.errors import BusinessError
from core.models import DELIVERY_ACTIVE, DeliveryStatus
from core.outbox import MAIL_ERRORS, RetryPolicy, outbox_due, outbox_send
from core.queueing import enqueue_on_commit
from intake.models import IntakeDraft, ResumeEmail
from intake.selectors.submissions import intake_draft_answers
from intake.tasks import resume_email_send_task
from intake.throttling import (
    DOTLESS_DOMAINS,
    RESUME_PER_ADDRESS,
    Hits,
    email_normalise,
    limit_digest,
    limits_give_back,
    limits_take,
    rate_limited,
    rate_parse,
)

RESUME_SALT = "intake.resume"
# Between two resume emails for one draft: the form cannot be used to flood an inbox.
RESUME_EMAIL_INTERVAL = dt.timedelta(minutes=5)
# Doubling waits from a minute up to an hour, eight attempts: about four hours.
POLICY = RetryPolicy()


class ResumeEmailTooSoon(BusinessError):
    code = "resume_email_too_soon"
    status_code = 429


def intake_draft_resume_link_send(
    *, draft: IntakeDraft, email: str, client_address: str | None = None
) -> None:
    """Email the person a link to resume the draft, once per request, after commit.

    One email per draft every RESUME_EMAIL_INTERVAL, claimed in the database (not
    the cache), so the limit holds with Redis down and across web processes. A
    request replaces one still unsent: only the newest address gets the link. Across
    drafts, one inbox gets INTAKE_RESUME_RATE_LIMIT_RECIPIENT links at most (counted
    in the database too) and one network address asks for INTAKE_RESUME_RATE_LIMIT
    (in the cache, open when it is down); IntakeRateLimited past either.
    """
    now = timezone.now()
    hits = Hits()
    with transaction.atomic():
        claimed = (
            IntakeDraft.objects.filter(pk=draft.pk)
            .filter(
                Q(resume_requested_at__isnull=True)
                | Q(resume_requested_at__lte=now - RESUME_EMAIL_INTERVAL)
            )
            .update(resume_requested_at=now, updated_at=now)
        )
        if not claimed:
            raise ResumeEmailTooSoon(
                _(
                    "We have just sent you a link. Please check your inbox, and spam "
                    "folder."
                )
            )
        ResumeEmail.objects.filter(draft=draft, status__in=DELIVERY_ACTIVE).update(
            status=DeliveryStatus.SKIPPED, last_error="Replaced by a newer request."
        )
        # A refusal below rolls back the claim: the draft may ask again at once.
        _recipient_limit_check(draft=draft, email=email, now=now)
        if client_address is not None:
            hits = limits_take(
                [(RESUME_PER_ADDRESS, address_network(client_address))],
                location_slug=lambda: _draft_location(draft),
            )
        try:
            resume_email = ResumeEmail.objects.create(draft=draft, to=email)
        except BaseException:
            limits_give_back(hits)
            raise
        enqueue_on_commit(resume_email_send_task, resume_email.pk)


def _recipient_limit_check(*, draft: IntakeDraft, email: str, now: dt.datetime) -> None:
    """IntakeRateLimited when the inbox of `email` had its links for the window.

    Counted from the outbox rows, not the cache: the mail server is what a flood
    would use, and the rows hold with Redis down. Replaced (skipped) rows were never
    sent and do not count; rows go with their drafts, so a flood would have to
    submit each draft to be forgotten. Concurrent requests for one inbox queue on a
    transaction lock on PostgreSQL, so the count is exact.
    """
    allowed, seconds = rate_parse(settings.INTAKE_RESUME_RATE_LIMIT_RECIPIENT)
    inbox = email_normalise(email)
    if connection.vendor == "postgresql":
        lock = int(limit_digest("resume:recipient", inbox)[:15], 16)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock])
    domain = inbox.rpartition("@")[2]
    domains = [d for d, one in DOTLESS_DOMAINS.items() if one == domain] or [domain]
    since = now - dt.timedelta(seconds=seconds)
    recent = (
        ResumeEmail.objects.filter(created_at__gt=since)
        .exclude(status=DeliveryStatus.SKIPPED)
        .filter(reduce(or_, (Q(to__iendswith=f"@{d}") for d in domains)))
        .order_by("created_at")
        .values_list("to", "created_at")
    )
    sent = [at for to, at in recent if email_normalise(to) == inbox]
    if len(sent) < allowed:
        return
    # The wait until enough of them leave the window for one more.
    frees_at = sent[len(sent) - allowed] + dt.timedelta(seconds=seconds)
    raise rate_limited(
        _("Several links were sent to this email address just now."),
        retry_after=max(1, math.ceil((frees_at - now).total_seconds())),
        location_slug=_draft_location(draft),
    )


def _draft_location(draft: IntakeDraft) -> str | None:
    location = intake_draft_answers(draft).get("location")
    return location if isinstance(location, str) else None


def resume_token(draft: IntakeDraft) -> str:
    """The signed, expiring token of a draft's resume link (no answers inside)."""
    return signing.dumps(
        {"draft": str(draft.code), "nonce": str(draft.resume_nonce)}, salt=RESUME_SALT
    )


def intake_draft_resume_open(*, token: str) -> IntakeDraft | None:
    """The draft a resume link opens, once: opening it draws a new nonce.

    None for a forged, expired, used or deleted link.
    """
    max_age = dt.timedelta(days=settings.INTAKE_DRAFT_DAYS)
    try:
        payload = signing.loads(token, salt=RESUME_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    code, nonce = str(payload.get("draft")), str(payload.get("nonce"))
    opened = IntakeDraft.objects.filter(code=code, resume_nonce=nonce).update(
        resume_nonce=uuid.uuid4()
    )
    if not opened:
        return None
    return IntakeDraft.objects.get(code=code)


def resume_email_send(*, resume_email_id: int) -> bool:
    """Send one due resume email; return whether this call delivered it.

    At least once, never concurrently (core.outbox); a mail server error is retried
    with backoff, and the row is failed after the last attempt. A draft submitted or
    deleted meanwhile takes its rows with it: nothing is sent.
    """
    resume_email = outbox_send(
        ResumeEmail,
        pk=resume_email_id,
        send=_email_send,
        transient=MAIL_ERRORS,
        policy=POLICY,
        related=("draft",),
    )
    return resume_email is not None and resume_email.status == DeliveryStatus.SENT


def resume_email_send_due(*, now: dt.datetime | None = None) -> int:
    """Hand the broker the resume emails that are due; return how many.

    Covers a broker that was down when the link was requested, a worker that died,
    and retries; each send claims its row, so racing the task sends nothing twice.
    """
    due = outbox_due(ResumeEmail, policy=POLICY, now=now or timezone.now())
    for resume_email_id in due:
        resume_email_send_task.delay(resume_email_id)
    return len(due)


def _email_send(resume_email: ResumeEmail) -> None:
    draft = resume_email.draft
    token = resume_token(draft)
    with translation.override(draft.language):
        link = settings.SITE_URL.rstrip("/") + reverse("intake:resume", args=[token])
        body = render_to_string(
            "intake/email/resume.txt",
            {
                "link": link,
                "days": settings.INTAKE_DRAFT_DAYS,
                "clinic": clinic_branding_get(),
            },
        )
        subject = _("Continue your consultation questionnaire")
    send_mail(subject, body, None, [resume_email.to])
