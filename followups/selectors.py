"""Reads for follow-ups: the plain values a message's template may use.

Only strings go to the sandbox (followups.rendering): the person's name, the
clinic's, the next steps in words, the booking link. Never an answer, a condition
or a rule's reason: the next steps name a treatment and what happens, no more.
"""

import html
import uuid

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from booking.links import booking_link_make, booking_link_url
from booking.offers import booking_offer_answer
from clinics.selectors import clinic_branding_get
from core.zones import clinic_zone
from followups.models import FollowUpMessage, Suppression
from followups.rendering import Safe
from intake.hooks import BookingOfferAsked
from intake.selectors.next_steps import NextStep, next_step_list
from intake.selectors.questionnaires import treatment_name
from leads.models import Lead

# Every value a template may name, and what it holds (the admin lists them).
VALUES = {
    "name": "the person's full name",
    "first_name": "the person's first name",
    "clinic_name": "the clinic's name",
    "location_name": "the person's clinic location",
    "clinic_phone": "the location's phone number",
    "next_steps": "per treatment asked about, what happens next (no reasons)",
    "treatment": "the treatment a physician's decision was about",
    "booking_link": "the link to choose a time, when one may be booked now",
    "booking_times": "the first free times, when one may be booked now",
    "unsubscribe_link": "the link to stop these messages",
    "appointment": "a visit's appointment, in the person's language",
    "appointment_time": "a visit's day and time, at its location",
    "location_address": "a visit's address",
    "manage_link": "the link to move or cancel a visit (or choose a new time)",
    "practitioner": "a visit's practitioner",
    "appointment_minutes": "a visit's length in minutes",
    "change_notice_hours": "up to how many hours before a visit it may be changed "
    "online",
}


def message_language(lead: Lead) -> str:
    """The person's language, or English when the clinic does not serve it."""
    served = {code for code, _name in settings.LANGUAGES}
    return lead.preferred_language if lead.preferred_language in served else "en"


def followup_values(
    message: FollowUpMessage,
    *,
    language: str,
    unsubscribe: str,
    clinic_name: str | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """(values for the plain-text part and subject, values for the HTML part);
    `clinic_name` when the caller read it already (a batch reads it once)."""
    lead = message.lead
    submission = message.event.submission if message.event else None
    with translation.override(language):
        steps = next_step_list(submission, language=language) if submission else []
        offer = (
            booking_offer_answer(
                BookingOfferAsked(submission_id=submission.pk, language=language)
            )
            if submission and any(step.kind == "book" for step in steps)
            else None
        )
        offered = {a.treatment for a in offer.appointments} if offer else set()
        lines = [
            f"{step.treatment_name}: {_step_words(step, offered=offered)}"
            for step in steps
        ]
        times = (
            [
                time.text
                for appointment in offer.appointments
                for time in appointment.times
            ]
            if offer
            else []
        )
        decided = message.event.data.get("treatment") if message.event else None
        treatment = treatment_name(decided) if decided else ""
    location = lead.location
    text = {
        **_visit_values(message, language=language),
        "treatment": treatment,
        "name": lead.full_name,
        "first_name": lead.full_name.split()[0] if lead.full_name.split() else "",
        "clinic_name": (
            clinic_branding_get().name if clinic_name is None else clinic_name
        ),
        "location_name": location.name_in(language) if location else "",
        "clinic_phone": location.phone if location else "",
        "next_steps": "\n".join(f"- {line}" for line in lines),
        "booking_link": offer.url if offer else "",
        "booking_times": "; ".join(times[:3]),
        "unsubscribe_link": unsubscribe,
    }
    markup = dict(text)
    markup["next_steps"] = Safe(
        "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"
        if lines
        else ""
    )
    return text, markup


def _visit_values(message: FollowUpMessage, *, language: str) -> dict[str, str]:
    """What a visit's message says of it: the appointment, its local time, the
    address and the link to change it."""
    visit = message.booking
    if visit is None:
        return {}
    local = visit.starts_at.astimezone(clinic_zone(visit.location.time_zone))
    link = booking_link_make(
        lead=message.lead, now=timezone.now(), at_least_until=visit.ends_at
    )
    with translation.override(language):
        when = formats.date_format(local, "l j F Y, H:i")
    return {
        "appointment": visit.appointment_type.name(language),
        "appointment_minutes": str(visit.appointment_type.duration_minutes),
        "change_notice_hours": str(visit.appointment_type.change_notice_hours),
        "practitioner": visit.practitioner.display_name,
        "appointment_time": when,
        "location_address": ", ".join(
            part for part in (visit.location.name, visit.location.address) if part
        ),
        "manage_link": booking_link_url(link, language=language),
    }


def _step_words(step: NextStep, *, offered: set[str]) -> str:
    """What happens next for one treatment, without the reason; `offered`: the
    treatments with times to choose online now."""
    if step.kind == "book":
        if step.treatment in offered:
            return _("you can choose a time now.")
        return _("nothing in your answers stands in the way; we will arrange a time.")
    if step.kind == "review":
        return _(
            "one of our physicians looks at your answers first; we will contact you."
        )
    if step.kind == "deferred":
        if step.reconsider_on:
            day = formats.date_format(step.reconsider_on, "j F Y")
            return _("not just yet; we can look at this again from %(day)s.") % {
                "day": day
            }
        return _("not just yet; we will look at this again with you later.")
    return _("a coordinator will call you to talk about what may help instead.")


def suppression_get(*, email_key: str) -> Suppression | None:
    """What the address asked to stop, or None: it receives follow-ups."""
    return Suppression.objects.filter(email_key=email_key).first()


def lead_for_link(*, code: uuid.UUID) -> Lead | None:
    """The lead an unsubscribe link names (the one it was merged into, if it was)."""
    lead = Lead.objects.filter(code=code).select_related("merged_into").first()
    return (lead.merged_into or lead) if lead else None


def lead_message_list(*, lead: Lead, limit: int = 50) -> list[FollowUpMessage]:
    """The lead's follow-up messages, newest first, with their step: what staff see
    went, waits or failed."""
    return list(
        FollowUpMessage.objects.filter(lead=lead)
        .select_related("step__sequence")
        .order_by("-created_at", "-id")[:limit]
    )
