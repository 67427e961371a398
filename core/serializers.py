"""Serializer fields every API shares: strict query parameters, moments, and request
body values that keep their JSON types.

Strict means refused with the parameter's or field's name, never silently ignored
or coerced: an unknown parameter, one given twice, 0 for the text "0", "5" for the
id 5.
"""

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.utils import dateparse, timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.text import text_is_storable

# Dates a filter may name: every stored moment is inside, and a day or a time zone
# either side of them is still a datetime (9999-12-31 plus a day is not).
MOMENT_YEARS = range(1900, 9999)
# What the schema says MomentField takes: a date, or a date-time with or without
# seconds, fraction and offset, in the years of MOMENT_YEARS.
MOMENT_PATTERN = (
    r"^(19[0-9]{2}|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
    r"-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$"
)
# A slug as Django's SlugField takes it (a Location's `slug`).
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"


class QueryParamsSerializer(serializers.Serializer[Any]):
    """Query parameters: every one known and given a value, the single-valued
    ones once."""

    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, list[str]] = {}
        for name in data:
            field = self.fields.get(name)
            values = data.getlist(name) if hasattr(data, "getlist") else [data[name]]
            if field is None:
                errors[name] = ["Unknown parameter."]
            elif any(str(value).strip() == "" for value in values):
                # An HTML form's empty field would otherwise mean "no filter".
                errors[name] = ["Give a value, or leave the parameter out."]
            elif not all(text_is_storable(str(value)) for value in values):
                # A slug or a cursor goes to the database as it is.
                errors[name] = ["Remove the NUL character from this value."]
            elif not isinstance(field, serializers.ListField) and len(values) > 1:
                errors[name] = ["Give this parameter once."]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class CommaListField(serializers.ListField):
    """A repeatable parameter whose values may also be comma-separated:
    ?status=new&status=contacted and ?status=new,contacted mean the same."""

    def to_internal_value(self, data: Any) -> Any:
        values = [data] if isinstance(data, str) else list(data)
        parts = [part.strip() for value in values for part in str(value).split(",")]
        return super().to_internal_value([part for part in parts if part])


@extend_schema_field(
    {"type": "string", "pattern": MOMENT_PATTERN, "example": "2026-11-30"}
)
class MomentField(serializers.Field[dt.datetime, Any, str, Any]):
    """An ISO date or date-time; a naive one is the clinic's local time. A date
    alone means the start of that day, or with end_of_day the start of the next,
    so that created_before=2026-11-30 includes the 30th."""

    default_error_messages = {
        "invalid": "Use an ISO date (2026-11-30) or date-time (2026-11-30T14:00:00Z).",
        "out_of_range": (
            f"Use a date in the years {MOMENT_YEARS.start} to {MOMENT_YEARS[-1]}."
        ),
    }

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any) -> None:
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dt.datetime:
        text = str(data).strip()
        try:
            # A date first: fromisoformat would read "2026-11-30" as a midnight.
            day = dateparse.parse_date(text)
            moment = None if day else dateparse.parse_datetime(text)
        except ValueError:
            self.fail("invalid")
        if day is not None:
            moment = dt.datetime.combine(day, dt.time())
        if moment is None:
            self.fail("invalid")
        if moment.year not in MOMENT_YEARS:
            self.fail("out_of_range")
        if day is not None and self.end_of_day:
            moment += dt.timedelta(days=1)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    def to_representation(self, value: dt.datetime) -> str:
        return value.isoformat()


class TextField(serializers.CharField):
    """Text that must arrive as a JSON string."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CodeField(serializers.UUIDField):
    """A public code (UUID) as a JSON string (DRF would also take an integer)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class UserIdField(serializers.PrimaryKeyRelatedField[User]):
    """A user of the field's queryset, by id as a JSON integer."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # DRF reads "" as null for relations; the schema says integer or null.
        if data == "":
            self.fail("incorrect_type", data_type="str")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)
