"""Shapes of the staff leads API: query parameters, request bodies, responses.

Query parameters are strict: an unknown name, a value given twice where one is
expected, or a value that cannot be read answers 400 with the parameter's name;
nothing is silently ignored.
"""

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.utils import dateparse, timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinics.models import Location
from core.text import text_is_storable
from intake.screening import Outcome
from intake.validators import AnswerInvalid, phone_normalise
from leads.models import Lead, LeadEvent
from leads.selectors import LEAD_ORDERING_DEFAULT, LEAD_ORDERINGS, lead_is_overdue
from leads.services.leads import CallOutcome, lead_email_key

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200
NAME_SEARCH_MIN = 3
# Dates a filter may name: every lead is inside, and a day or a time zone either
# side of them is still a datetime (9999-12-31 plus a day is not).
MOMENT_YEARS = range(1900, 9999)
# Digits with the usual separators and an optional leading + or 00: a phone number.
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]{7,}")


class QueryParamsSerializer(serializers.Serializer):  # type: ignore[type-arg]
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


@extend_schema_field(OpenApiTypes.STR)
class MomentField(serializers.Field):  # type: ignore[type-arg]
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


@dataclass(frozen=True)
class LeadSearch:
    """What `q` asks for: an email key, an E.164 phone, or part of a name."""

    email_key: str = ""
    phone: str = ""
    name: str = ""


def lead_search_parse(text: str) -> LeadSearch:
    """Classify a search: "@" means an email (matched as lead matching keys it),
    digits mean a phone (matched in E.164), anything else part of a name."""
    text = text.strip()
    if "@" in text:
        return LeadSearch(email_key=lead_email_key(text))
    if _PHONE_LIKE.fullmatch(text) or text.startswith("00"):
        try:
            return LeadSearch(phone=phone_normalise(text))
        except AnswerInvalid as error:
            raise serializers.ValidationError(
                "This looks like a phone number but is not one: give it with the "
                "country code, e.g. +90 532 123 45 67."
            ) from error
    if len(text) < NAME_SEARCH_MIN:
        raise serializers.ValidationError(
            f"Type at least {NAME_SEARCH_MIN} letters of a name, an email or a phone."
        )
    return LeadSearch(name=text)


class LeadFilterInputSerializer(QueryParamsSerializer):
    """The queue's filters and order, shared by the list and the CSV export."""

    status = CommaListField(
        child=serializers.ChoiceField(choices=Lead.Status.choices),
        required=False,
        help_text="Repeat it or separate with commas: status=new,contacted.",
    )
    priority = CommaListField(
        child=serializers.ChoiceField(choices=Lead.Priority.choices), required=False
    )
    owner = serializers.CharField(
        required=False,
        help_text="A user id, `me`, or `none` for the unassigned queue.",
    )
    overdue = serializers.BooleanField(
        required=False,
        default=None,
        allow_null=True,
        help_text="`true`: not contacted and past the first-contact deadline.",
    )
    location = serializers.SlugRelatedField(
        slug_field="slug", queryset=Location.objects.all(), required=False
    )
    treatment = serializers.RegexField(
        r"^[a-z0-9_]{1,40}$",
        required=False,
        help_text="A treatment code the person asked about, e.g. `mesotherapy`.",
    )
    outcome = serializers.ChoiceField(
        choices=[o.value for o in Outcome if o != Outcome.INFO],
        required=False,
        help_text="The screening outcome (of `treatment` when given, else of any).",
    )
    created_after = MomentField(
        required=False, help_text="Created at or after this date or moment."
    )
    created_before = MomentField(
        required=False,
        end_of_day=True,
        help_text="Created before this moment, or on or before this date.",
    )
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text="An email (exact, as matching compares emails), a phone number "
        f"(exact, any common format), or at least {NAME_SEARCH_MIN} letters of "
        "the name.",
    )
    ordering = serializers.ChoiceField(
        choices=list(LEAD_ORDERINGS),
        default=LEAD_ORDERING_DEFAULT,
        help_text="`due` (most urgent first), `-created`, `created` or `-score`.",
    )

    def validate_owner(self, value: str) -> str | int:
        if value in ("me", "none"):
            return value
        # isdigit alone takes "²", which int() refuses.
        if value.isascii() and value.isdigit():
            return int(value)
        raise serializers.ValidationError("Use a user id, “me” or “none”.")

    def validate_overdue(self, value: bool | None) -> bool | None:
        if value is False:
            raise serializers.ValidationError(
                "Only overdue=true filters; leave it out to see every lead."
            )
        return value

    def validate_q(self, value: str) -> LeadSearch:
        return lead_search_parse(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after is not None and before is not None and after >= before:
            raise serializers.ValidationError(
                {"created_before": ["Must be later than created_after."]}
            )
        return attrs


class LeadListInputSerializer(LeadFilterInputSerializer):
    cursor = serializers.CharField(
        required=False, max_length=500, help_text="The `next` link's cursor."
    )
    page_size = serializers.IntegerField(
        required=False,
        default=PAGE_SIZE_DEFAULT,
        min_value=1,
        max_value=PAGE_SIZE_MAX,
    )


class LeadExportInputSerializer(LeadFilterInputSerializer):
    include_health = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Add each lead's screening outcomes (physicians and clinic "
        "admins only; every exported submission is written to the audit log).",
    )


class TimelineInputSerializer(QueryParamsSerializer):
    cursor = serializers.CharField(required=False, max_length=500)
    page_size = serializers.IntegerField(
        required=False,
        default=PAGE_SIZE_DEFAULT,
        min_value=1,
        max_value=PAGE_SIZE_MAX,
    )


# Responses.


class UserOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.get_username()


class LeadTreatmentOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    treatment = serializers.CharField()
    outcome = serializers.CharField(help_text="The screening outcome: triage only.")


class LeadListItemOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.UUIDField()
    full_name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()
    status = serializers.ChoiceField(choices=Lead.Status.choices)
    priority = serializers.ChoiceField(choices=Lead.Priority.choices)
    score = serializers.IntegerField()
    location = serializers.CharField(source="location.slug")
    owner = UserOutputSerializer(allow_null=True)
    first_contact_due_at = serializers.DateTimeField()
    first_contacted_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()
    treatments = LeadTreatmentOutputSerializer(many=True, source="treatments.all")
    created_at = serializers.DateTimeField()
    match_uncertain = serializers.SerializerMethodField(
        help_text="Another lead has this phone under another name: merge or not."
    )

    def get_overdue(self, lead: Lead) -> bool:
        now: dt.datetime = self.context.get("now") or timezone.now()
        return lead_is_overdue(lead, now=now)

    def get_match_uncertain(self, lead: Lead) -> bool:
        return lead.match_uncertain_with_id is not None


class LeadListOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    results = LeadListItemOutputSerializer(many=True)
    next = serializers.URLField(allow_null=True)


class ScorePartOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    factor = serializers.CharField()
    points = serializers.IntegerField()
    most = serializers.IntegerField(
        default=0, help_text="The most points this part can give."
    )
    detail = serializers.CharField(
        allow_blank=True,
        help_text="Why, in words; empty for parts drawn from health answers "
        "(read those through the lead's health endpoint).",
    )


class SubmissionRefOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.UUIDField(source="submission.code")
    submitted_at = serializers.DateTimeField(source="submission.submitted_at")


class LeadTaskOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    title = serializers.CharField()
    due_at = serializers.DateTimeField()
    assignee = UserOutputSerializer(allow_null=True)


class LeadDetailOutputSerializer(LeadListItemOutputSerializer):
    preferred_language = serializers.CharField()
    status_changed_at = serializers.DateTimeField()
    lost_reason = serializers.CharField(
        help_text="Why a lost lead was lost; empty otherwise."
    )
    score_parts = ScorePartOutputSerializer(many=True)
    escalation = serializers.IntegerField(
        help_text="0 on time, 1 owner reminded, 2 lead coordinator, 3 clinic admin."
    )
    last_submitted_at = serializers.DateTimeField()
    submissions = SubmissionRefOutputSerializer(many=True, source="submission_events")
    open_tasks = LeadTaskOutputSerializer(many=True)
    merged_into = serializers.UUIDField(
        source="merged_into.code",
        allow_null=True,
        help_text="Set when this lead was merged into another: open that one.",
    )
    match_uncertain_with = serializers.UUIDField(
        source="match_uncertain_with.code", allow_null=True
    )


class LeadEventOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LeadEvent.Kind.choices)
    actor = UserOutputSerializer(allow_null=True)
    text = serializers.CharField(help_text="A note or call summary a person wrote.")
    # Declared fields leave the class: `data` the property stays (as with `source`).
    data = serializers.JSONField(  # type: ignore[assignment]
        help_text="Codes, e.g. {'from': 'new', 'to': 'contacted'}."
    )
    submission = serializers.UUIDField(source="submission.code", allow_null=True)
    created_at = serializers.DateTimeField()


class LeadTimelineOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    results = LeadEventOutputSerializer(many=True)
    next = serializers.URLField(allow_null=True)


class RuleExplanationOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    outcome = serializers.CharField()
    reason = serializers.CharField()
    answers = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()  # type: ignore[assignment]
    reconsider_on = serializers.DateField(allow_null=True)


class TreatmentExplanationOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    treatment = serializers.CharField()
    outcome = serializers.CharField(help_text="As the rules decided.")
    effective = serializers.CharField(help_text="After physician decisions.")
    rules = RuleExplanationOutputSerializer(many=True)


class DecisionOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    treatment = serializers.CharField()
    decision = serializers.CharField()
    note = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by.get_username")
    decided_at = serializers.DateTimeField()


class ScreeningOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    rule_set_version = serializers.CharField(allow_null=True)
    evaluated_on = serializers.DateField(allow_null=True)
    effective_outcomes = serializers.DictField(child=serializers.CharField())
    explanations = TreatmentExplanationOutputSerializer(many=True)
    overrides = DecisionOutputSerializer(many=True)


class SubmissionHealthOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.UUIDField()
    submitted_at = serializers.DateTimeField()
    answers = serializers.ListField(
        child=serializers.CharField(),
        help_text="“Question: answer”, in the questionnaire's English words.",
    )
    screening = ScreeningOutputSerializer()


class LeadHealthOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    lead = serializers.UUIDField()
    submissions = SubmissionHealthOutputSerializer(many=True)


# Action bodies. JSON types are kept: 0 is not the text "0", nor "5" the id 5.


class TextField(serializers.CharField):
    """Text that must arrive as a JSON string."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CodeField(serializers.UUIDField):
    """A lead's code as a JSON string (DRF would also take an integer)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class UserIdField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """An active user, by id as a JSON integer."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


# The status enum is named once, for `status`; here it is spelt out inline.
@extend_schema_field({"type": "string", "enum": Lead.Status.values})
class StatusChoiceField(serializers.ChoiceField):
    pass


class LeadTransitionInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    to_status = StatusChoiceField(choices=Lead.Status.choices)
    lost_reason = serializers.ChoiceField(
        choices=Lead.LostReason.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when to_status is `lost`.",
    )
    note = TextField(required=False, allow_blank=True, default="", max_length=5000)


class LeadAssignInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    owner = UserIdField(
        queryset=User.objects.filter(is_active=True),
        allow_null=True,
        help_text="A coordinator of the lead's location, or null for the "
        "unassigned queue.",
    )


class LeadNoteInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    text = TextField(max_length=5000)


class LeadCallInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    outcome = serializers.ChoiceField(choices=list(CallOutcome.ALL))
    summary = TextField(required=False, allow_blank=True, default="", max_length=5000)


class LeadMergeInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    duplicate = CodeField(help_text="The code of the lead to fold into this one.")


class LeadDecisionInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    treatment = TextField(max_length=40)
    decision = serializers.ChoiceField(choices=["cleared", "declined"])
    note = TextField(max_length=2000)
