"""Answer validation shared by the patient form and the API.

Values arrive JSON-shaped (the API) or already typed by form fields; either way they
leave as the stored answer format (docs/questionnaire.md): bool, code, list of
codes, int, float, ISO date string or text. Messages are patient-facing.
"""

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.text import unstorable_paths
from intake.questionnaires.definition import (
    Definition,
    Item,
    answers_prune,
    item_is_enabled,
)

OLDEST_AGE_YEARS = 120
ADULT_AGE = 18
PHONE_DEFAULT_REGION = "TR"


@dataclass
class CleanedAnswers:
    """Answers in the stored format, and messages per linkId for what was wrong."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add_error(self, link_id: str, message: str) -> None:
        self.errors.setdefault(link_id, []).append(message)


class AnswerInvalid(ValueError):
    """One answer cannot be accepted; the message says why, in the person's words."""


def answers_clean(
    definition: Definition,
    raw: Mapping[str, Any],
    *,
    items: Iterable[Item] | None = None,
    earlier_answers: Mapping[str, Any] | None = None,
    location_codes: Collection[str] = (),
    phone_regions: Mapping[str, str] | None = None,
    today: dt.date,
) -> CleanedAnswers:
    """Validate `raw` answers for `items` (default: every question).

    A phone number typed without a country code is read as one of the chosen
    location's country (`phone_regions`: location code -> region, e.g. "GB").

    Hidden questions (enableWhen false given all answers) are dropped, never stored;
    required questions that are shown and unanswered get a message.
    """
    questions = [
        item
        for item in (items if items is not None else definition.items())
        if item.type not in {"group", "display"}
    ]
    result = CleanedAnswers()
    location = raw.get("location") or (earlier_answers or {}).get("location")
    phone_region = (phone_regions or {}).get(str(location), PHONE_DEFAULT_REGION)
    for item in questions:
        value = raw.get(item.link_id)
        if _is_blank(value):
            continue
        try:
            result.values[item.link_id] = answer_clean(
                item,
                value,
                location_codes=location_codes,
                phone_region=phone_region,
                today=today,
            )
        except AnswerInvalid as error:
            result.add_error(item.link_id, str(error))

    everything = {**(earlier_answers or {}), **result.values}
    for link_id in set(everything) - set(answers_prune(definition, everything)):
        result.values.pop(link_id, None)
        result.errors.pop(link_id, None)
    visible = answers_prune(definition, everything)
    for item in questions:
        if not item_is_enabled(item, visible):
            continue
        missing = item.link_id not in result.values and item.link_id not in (
            result.errors
        )
        if item.required and missing:
            result.add_error(item.link_id, _required_message(item))
    return result


def adult_born_by(today: dt.date | None = None) -> dt.date:
    """The latest date of birth of someone 18 today. On 29 February of a leap year
    that is 28 February: who was born on 1 March turns 18 tomorrow."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - ADULT_AGE)
    except ValueError:
        return today.replace(year=today.year - ADULT_AGE, day=28)


def is_minor(birth_date: str, *, today: dt.date | None = None) -> bool:
    """Whether someone born on `birth_date` (ISO) is under 18 `today`."""
    return birth_date > adult_born_by(today).isoformat()


def answer_clean(
    item: Item,
    value: Any,
    *,
    location_codes: Collection[str] = (),
    phone_region: str = PHONE_DEFAULT_REGION,
    today: dt.date,
) -> Any:
    """One answer in the stored format, or AnswerInvalid with a message."""
    if unstorable_paths(value):
        # A NUL or a lone surrogate: no keyboard types them, and no column holds them.
        raise AnswerInvalid(
            _("Please type this answer again: it holds a character we cannot save.")
        )
    if item.repeats and item.type == "choice":
        values = value if isinstance(value, list | tuple) else [value]
        codes = [_choice(item, one, location_codes) for one in values]
        exclusive = {option.code for option in item.options if option.exclusive}
        if len(codes) > 1 and exclusive.intersection(codes):
            raise AnswerInvalid(
                _("“%(option)s” cannot be combined with other answers.")
                % {"option": _display(item, sorted(exclusive & set(codes))[0])}
            )
        return list(dict.fromkeys(codes))
    if item.type == "choice":
        return _choice(item, value, location_codes)
    if item.link_id == "phone":
        return phone_normalise(_text(item, value, today), region=phone_region)
    cleaner = _CLEANERS.get(item.type)
    if cleaner is None:
        raise AnswerInvalid(_("This question cannot be answered here."))
    return cleaner(item, value, today)


def _boolean(item: Item, value: Any, today: dt.date) -> bool:
    if isinstance(value, bool):
        if item.link_id == "consent_health" and not value:
            raise AnswerInvalid(consent_message())
        return value
    raise AnswerInvalid(_("Please answer yes or no."))


def _integer(item: Item, value: Any, today: dt.date) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise AnswerInvalid(_("Please enter a whole number."))
    try:
        number = int(value)
    except ValueError:
        raise AnswerInvalid(_("Please enter a whole number.")) from None
    _check_range(item, number)
    return number


def _decimal(item: Item, value: Any, today: dt.date) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise AnswerInvalid(_("Please enter a number."))
    try:
        number = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise AnswerInvalid(_("Please enter a number.")) from None
    if not number.is_finite():
        raise AnswerInvalid(_("Please enter a number."))
    _check_range(item, number)
    return int(number) if number == number.to_integral_value() else float(number)


def _date(item: Item, value: Any, today: dt.date) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise AnswerInvalid(
                _("Please enter a date as year-month-day, e.g. 1990-04-25.")
            ) from None
    if not isinstance(value, dt.date):
        raise AnswerInvalid(
            _("Please enter a date as year-month-day, e.g. 1990-04-25.")
        )
    if value > today:
        raise AnswerInvalid(_("This date cannot be in the future."))
    if value.year < today.year - OLDEST_AGE_YEARS:
        raise AnswerInvalid(_("Please check the year."))
    return value.isoformat()


def _text(item: Item, value: Any, today: dt.date) -> str:
    if not isinstance(value, str):
        raise AnswerInvalid(_("Please enter text."))
    text = value.strip()
    limit = item.max_length or (200 if item.type == "string" else 2000)
    if len(text) > limit:
        raise AnswerInvalid(
            _("Please keep this under %(limit)d characters.") % {"limit": limit}
        )
    if item.link_id == "email":
        return _email(text)
    return text


def _email(text: str) -> str:
    try:
        validate_email(text)
    except ValidationError:
        raise AnswerInvalid(
            _("Please enter an email address like name@example.com.")
        ) from None
    local, _at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def phone_normalise(text: str, *, region: str = PHONE_DEFAULT_REGION) -> str:
    """A phone number in E.164 (+905321234567), or AnswerInvalid.

    Any valid number with its country code; without one, a number of `region`.
    """
    cleaned = re.sub(r"[^\d+]", "", text)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise AnswerInvalid(
            _(
                "Please enter a phone number we can call, such as %(local)s, or "
                "with its country code if it is from another country, such as "
                "%(abroad)s."
            )
            % {"local": phone_example(region), "abroad": phone_example_abroad(region)}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_example(region: str) -> str:
    """A valid mobile number of `region` as people there write it."""
    example = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    )
    if example is None:
        return ""
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)


def phone_example_abroad(region: str) -> str:
    """A valid mobile number of another country, written with its country code."""
    other = "GB" if region != "GB" else "TR"
    example = phonenumbers.example_number_for_type(
        other, phonenumbers.PhoneNumberType.MOBILE
    )
    if example is None:  # both regions ship example numbers
        return ""
    return phonenumbers.format_number(
        example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def _choice(item: Item, value: Any, location_codes: Collection[str]) -> str:
    allowed = (
        set(location_codes)
        if item.value_set == "locations"
        else {option.code for option in item.options}
    )
    if not isinstance(value, str) or value not in allowed:
        raise AnswerInvalid(_("Please choose one of the options."))
    return value


def _check_range(item: Item, number: int | Decimal) -> None:
    if item.min_value is not None and number < item.min_value:
        raise AnswerInvalid(
            _("Please enter %(minimum)s or more.") % {"minimum": item.min_value}
        )
    if item.max_value is not None and number > item.max_value:
        raise AnswerInvalid(
            _("Please enter %(maximum)s or less.") % {"maximum": item.max_value}
        )


def _display(item: Item, code: str) -> str:
    for option in item.options:
        if option.code == code:
            return localised(option.display)
    return code


class Translated(Protocol):
    def get(self, language: str) -> str: ...


def localised(text: Translated | None) -> str:
    """The text in the active language (English when it has none)."""
    return text.get((get_language() or "en")[:2]) if text is not None else ""


def _required_message(item: Item) -> str:
    if item.link_id == "consent_health":
        return consent_message()
    if item.type == "choice" and item.repeats:
        return _("Please choose at least one option.")
    if item.type in {"choice", "boolean"}:
        return _("Please choose an answer.")
    return _("Please answer this question.")


def consent_message() -> str:
    return _(
        "We can only look at your health answers with your consent. Please tick "
        "the box to go on."
    )


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


_CLEANERS = {
    "boolean": _boolean,
    "integer": _integer,
    "decimal": _decimal,
    "date": _date,
    "string": _text,
    "text": _text,
}
