"""Filters for showing the clinic to patients: names in their language, phones."""

import re

import phonenumbers
from django import template
from django.utils.translation import get_language

from clinics.models import Location

register = template.Library()


@register.filter
def local_name(location: Location) -> str:
    """The location's name in the page's language."""
    return location.name_in(get_language() or "en")


@register.filter
def tel(phone: str) -> str:
    """A phone number as a tel: address (digits and a leading + only)."""
    return "tel:" + re.sub(r"[^\d+]", "", phone) if phone else ""


@register.filter
def phone_display(phone: str) -> str:
    """+902120000000 as +90 212 000 00 00; what cannot be parsed is shown as given."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
