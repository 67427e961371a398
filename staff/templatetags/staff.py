"""Filters the staff pages use: a dict's value, a question's option in words, a
span of time in words."""

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from booking.models import AppointmentType
from intake.selectors.questionnaires import option_name

register = template.Library()


@register.filter
def get(mapping: Mapping[Any, Any], key: Any) -> Any:
    return mapping.get(key, "") if mapping else ""


@register.filter
def duration_words(span: dt.timedelta) -> str:
    """A span of time, roughly, however it is signed: "3 days", "2 h 5 min"."""
    minutes = int(abs(span.total_seconds()) // 60)
    if minutes >= 2 * 24 * 60:
        days = minutes // (24 * 60)
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(m)s min") % {"m": minutes}


@register.filter
def channel(code: str) -> str:
    return option_name("contact_channel", code)


@register.filter
def contact_time(code: str) -> str:
    return option_name("contact_times", code)


@register.filter
def appointment(kind: AppointmentType) -> str:
    return kind.name(get_language() or "en")


SCORE_FACTORS = {
    "treatments": gettext_lazy("Treatments"),
    "severity": gettext_lazy("How much it bothers them"),
    "duration": gettext_lazy("How long they have had it"),
    "timing": gettext_lazy("When they want treatment"),
    "triggers": gettext_lazy("Triggers"),
    "completeness": gettext_lazy("Questions answered"),
}


_ANSWERED = re.compile(r"Answered (\d+)% of the questions shown")


@register.filter
def score_detail(part: Mapping[str, Any]) -> str:
    """A score part's detail in the reader's language: stored in English, its
    words are msgids (leads.scoring marks them)."""
    detail = str(part.get("detail") or "")
    if answered := _ANSWERED.fullmatch(detail):
        return _("Answered %(share)s%% of the questions shown") % {"share": answered[1]}
    return _(detail) if detail else ""


@register.filter
def score_factor(code: str) -> str:
    return str(SCORE_FACTORS.get(code, code.replace("_", " ")))


@register.filter
def kind_of(value: Any) -> str:
    """ "mapping", "list" or "value": how staff/_held.html lays `value` out."""
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list | tuple):
        return "list"
    return "value"


@register.filter
def key_words(key: str) -> str:
    """A data key as a heading: "physician_decisions" is "Physician decisions"."""
    return key.replace("_", " ").capitalize()
