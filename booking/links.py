"""The patient's booking link: signed, expiring, no login.

The token carries the lead's code and its expiry, signed with the site's key; it
holds no health data. The same link books, moves and cancels: whoever has it acts
for the lead, as whoever has the confirmation email would by calling the clinic.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation

from leads.models import Lead

_SALT = "booking.link"


@dataclass(frozen=True)
class BookingLink:
    token: str
    expires_at: dt.datetime


def booking_link_make(
    *, lead: Lead, now: dt.datetime, at_least_until: dt.datetime | None = None
) -> BookingLink:
    """A link for `lead` valid BOOKING_LINK_DAYS from `now`, and until the day after
    `at_least_until` (the last visit it can move or cancel) when that is later."""
    expires_at = now + dt.timedelta(days=settings.BOOKING_LINK_DAYS)
    if at_least_until is not None:
        expires_at = max(expires_at, at_least_until + dt.timedelta(days=1))
    token = signing.dumps([lead.code.hex, int(expires_at.timestamp())], salt=_SALT)
    return BookingLink(token=token, expires_at=expires_at.replace(microsecond=0))


def booking_link_url(link: BookingLink, *, language: str) -> str:
    """The link's full address, on the page in `language`."""
    with translation.override(language):
        path = reverse("booking:page", kwargs={"token": link.token})
    site: str = settings.SITE_URL
    return site.rstrip("/") + path


class LinkExpired(Exception):
    """A genuine link whose time is over."""


def booking_link_lead(token: str, *, now: dt.datetime | None = None) -> Lead | None:
    """The lead a link is for (the one it was merged into, if it was); None for a
    token that is not one of ours. LinkExpired for one that was, but is over."""
    try:
        code, expires = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(code, str) or not isinstance(expires, int):
        return None
    if (now or timezone.now()).timestamp() > expires:
        raise LinkExpired
    lead = (
        Lead.objects.select_related("location", "merged_into__location")
        .filter(code=code)
        .first()
    )
    if lead is None:
        return None
    return lead.merged_into or lead
