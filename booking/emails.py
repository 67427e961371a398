"""The patient's email about their booking: made, moved or cancelled, in their
language, with an .ics their calendar app imports and the link to change it.

Written in the transaction of the change and sent through the outbox (core.outbox),
once per change. It names the appointment, the time and the place: nothing of the
person's answers or screening.
"""

import datetime as dt

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from booking.ics import booking_invitation_ics
from booking.links import booking_link_make, booking_link_url
from booking.models import Booking, BookingEmail
from booking.tasks import booking_email_send_task
from core.models import DeliveryStatus
from core.outbox import MAIL_ERRORS, RetryPolicy, Unsendable, outbox_due, outbox_send
from core.queueing import enqueue_on_commit
from core.zones import clinic_zone

POLICY = RetryPolicy()
SUBJECTS = {
    "created": _("Your appointment at %(clinic)s on %(when)s"),
    "rescheduled": _("Your appointment at %(clinic)s is now on %(when)s"),
    "cancelled": _("Your appointment at %(clinic)s on %(when)s is cancelled"),
}


def booking_email_queue(*, booking: Booking, change: str) -> None:
    """Write the email about `change` in the caller's transaction; it goes once that
    commits."""
    email, created = BookingEmail.objects.get_or_create(
        booking=booking, sequence=booking.sequence, defaults={"change": change}
    )
    if created:
        enqueue_on_commit(booking_email_send_task, email.pk)


def booking_email_send(*, email_id: int) -> bool:
    """Send one due email; whether this call delivered it (at least once, never
    concurrently: core.outbox)."""
    email = outbox_send(
        BookingEmail,
        pk=email_id,
        send=_send,
        transient=MAIL_ERRORS,
        policy=POLICY,
        related=(
            "booking__lead",
            "booking__appointment_type",
            "booking__location",
            "booking__practitioner",
        ),
    )
    return email is not None and email.status == DeliveryStatus.SENT


def booking_email_send_due(*, now: dt.datetime | None = None) -> int:
    """Hand the broker the emails that are due; how many."""
    due = outbox_due(BookingEmail, policy=POLICY, now=now or timezone.now())
    for email_id in due:
        booking_email_send_task.delay(email_id)
    return len(due)


def _language(code: str) -> str:
    return code if code in {known for known, _name in settings.LANGUAGES} else "en"


def _send(email: BookingEmail) -> None:
    booking = email.booking
    lead = booking.lead
    if not lead.email:
        raise Unsendable(f"lead {lead.pk} has no email address")
    language = _language(lead.preferred_language)
    local = booking.starts_at.astimezone(clinic_zone(booking.location.time_zone))
    link = booking_link_make(
        lead=lead, now=timezone.now(), at_least_until=booking.ends_at
    )
    with translation.override(language):
        when = formats.date_format(local, "l j F Y, H:i")
        context = {
            "name": lead.full_name,
            "change": email.change,
            "appointment": booking.appointment_type.name(language),
            "minutes": booking.appointment_type.duration_minutes,
            "when": when,
            "practitioner": booking.practitioner.display_name,
            "location": booking.location,
            "link": booking_link_url(link, language=language),
            "notice_hours": booking.appointment_type.change_notice_hours,
            "clinic_name": settings.CLINIC_NAME,
        }
        subject = SUBJECTS[email.change] % {
            "clinic": settings.CLINIC_NAME,
            "when": when,
        }
        body = render_to_string("booking/email/booking.txt", context)
    message = EmailMultiAlternatives(subject, body, None, [lead.email])
    method = "CANCEL" if booking.status == Booking.Status.CANCELLED else "REQUEST"
    message.attach(
        "appointment.ics",
        booking_invitation_ics(booking, language=language, method=method),
        f"text/calendar; method={method}; charset=utf-8",
    )
    message.send()
