"""The queue: the leads of your locations, filtered, most urgent first.

Query parameters are strict (core.serializers.QueryParamsSerializer): an unknown
name, a value given twice where one is expected, or a value that cannot be read
answers 400 with the parameter's name; nothing is silently ignored. The CSV export
(leads.api.export) takes the same filters.
"""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.models import Location
from clinics.permissions import IsStaffMember
from core.serializers import (
    SLUG_PATTERN,
    CommaListField,
    MomentField,
    QueryParamsSerializer,
)
from intake.selectors.screening import TREATMENT_OUTCOMES
from intake.selectors.submissions import submission_phone_normalise
from leads.api.common import (
    ERROR,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    LeadTreatmentOutputSerializer,
    UserOutputSerializer,
    request_user,
)
from leads.api.pagination import CursorField, keyset_page
from leads.models import Lead
from leads.pipeline import Readiness, booking_readiness
from leads.selectors import (
    LEAD_ORDERING_DEFAULT,
    LEAD_ORDERINGS,
    LeadFilters,
    contact_is_overdue,
    lead_email_key,
    lead_is_overdue,
    lead_queue_values_for_user,
    lead_treatments_many,
)

NAME_SEARCH_MIN = 3
# Digits with the usual separators and an optional leading + or 00: a phone number.
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]{7,}")
SEARCH_TOO_SHORT = (
    f"Type at least {NAME_SEARCH_MIN} letters of a name, an email or a phone."
)
# Not int()'s idea of digits ("²"), and no more of them than an id has.
_OWNER = r"^(me|none|[0-9]{1,18})$"


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
        phone = submission_phone_normalise(text)
        if phone is None:
            raise serializers.ValidationError(
                "This looks like a phone number but is not one: give it with the "
                "country code, e.g. +90 532 123 45 67."
            )
        return LeadSearch(phone=phone)
    if len(text) < NAME_SEARCH_MIN:
        raise serializers.ValidationError(SEARCH_TOO_SHORT)
    return LeadSearch(name=text)


# The schema says what each field's validation takes, so that a value the schema
# allows is refused only for what it means (a phone number that is none, a
# location that does not exist).
@extend_schema_field({"type": "boolean", "enum": [True]})
class OverdueField(serializers.BooleanField):
    """`true` only (validate_overdue refuses `false`)."""


@extend_schema_field({"type": "string", "pattern": SLUG_PATTERN, "maxLength": 50})
class LocationSlugField(serializers.SlugRelatedField[Location]):
    """A location by its slug."""


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
    owner = serializers.RegexField(
        _OWNER,
        required=False,
        help_text="A user id, `me`, or `none` for the unassigned queue.",
        error_messages={"invalid": "Use a user id, “me” or “none”."},
    )
    overdue = OverdueField(
        required=False,
        default=None,
        allow_null=True,
        help_text="`true`: not contacted and past the first-contact deadline.",
    )
    location = LocationSlugField(
        slug_field="slug", queryset=Location.objects.all(), required=False
    )
    treatment = serializers.RegexField(
        r"^[a-z0-9_]{1,40}$",
        required=False,
        help_text="A treatment code the person asked about, e.g. `mesotherapy`.",
    )
    outcome = serializers.ChoiceField(
        choices=list(TREATMENT_OUTCOMES),
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
        min_length=NAME_SEARCH_MIN,
        max_length=200,
        error_messages={"min_length": SEARCH_TOO_SHORT},
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
        return value if value in ("me", "none") else int(value)

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


def lead_filters_from(data: dict[str, Any], *, user: User) -> LeadFilters:
    """The selectors' filters from LeadFilterInputSerializer's validated data."""
    owner = data.get("owner")
    if owner == "me":
        owner = user.pk
    search = data.get("q") or LeadSearch()
    return LeadFilters(
        statuses=data.get("status", ()),
        priorities=data.get("priority", ()),
        owner_id=owner if isinstance(owner, int) else None,
        unassigned=owner == "none",
        overdue=bool(data.get("overdue")),
        location=data.get("location"),
        treatment=data.get("treatment", ""),
        outcome=data.get("outcome", ""),
        created_after=data.get("created_after"),
        created_before=data.get("created_before"),
        email_key=search.email_key,
        phone=search.phone,
        name=search.name,
    )


class LeadListInputSerializer(LeadFilterInputSerializer):
    cursor = CursorField(required=False, help_text="The `next` link's cursor.")
    page_size = serializers.IntegerField(
        required=False,
        default=PAGE_SIZE_DEFAULT,
        min_value=1,
        max_value=PAGE_SIZE_MAX,
    )


class LeadListItemOutputSerializer(serializers.Serializer[Any]):
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
    booking = serializers.SerializerMethodField(
        help_text=(
            "What the screening allows, apart from the contact progress: book now, "
            "after a physician's review, later (deferred), or not at all."
        )
    )
    created_at = serializers.DateTimeField()
    match_uncertain = serializers.SerializerMethodField(
        help_text="Another lead has this phone under another name: merge or not."
    )

    def get_overdue(self, lead: Lead) -> bool:
        now: dt.datetime = self.context.get("now") or timezone.now()
        return lead_is_overdue(lead, now=now)

    @extend_schema_field(
        {"type": "string", "enum": [readiness.value for readiness in Readiness]}
    )
    def get_booking(self, lead: Lead) -> str:
        return booking_readiness(
            ((t.outcome, t.bookable_from) for t in lead.treatments.all()),
            today=timezone.localdate(),
        ).value

    def get_match_uncertain(self, lead: Lead) -> bool:
        return lead.match_uncertain_with_id is not None


class LeadListOutputSerializer(serializers.Serializer[Any]):
    results = LeadListItemOutputSerializer(many=True)
    next = serializers.URLField(allow_null=True)


# Turns each day into JSON as LeadListItemOutputSerializer's DateField does.
_DAY = serializers.DateField()


def _moments_in(zone: dt.tzinfo) -> Callable[[dt.datetime | None], str | None]:
    """DRF's DateTimeField.to_representation (ISO 8601 in the current time zone,
    UTC as "Z") with the zone looked up once per page, not once per value."""

    def moment(value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        text = value.astimezone(zone).isoformat()
        return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text

    return moment


def lead_list_items(
    rows: list[dict[str, Any]], *, now: dt.datetime
) -> list[dict[str, Any]]:
    """A page of lead_queue_values_for_user rows as LeadListItemOutputSerializer
    shows them (that serializer is the schema; a test holds the two the same),
    built directly: the serializer's per-field machinery cost more than the query,
    and the rows carry no model instances for it to read."""
    treatments = lead_treatments_many(lead_ids=[row["id"] for row in rows])
    today = timezone.localdate()
    moment = _moments_in(timezone.get_current_timezone())
    items = []
    for row in rows:
        wanted = treatments[row["id"]]
        due, contacted = row["first_contact_due_at"], row["first_contacted_at"]
        items.append(
            {
                "code": str(row["code"]),
                "full_name": row["full_name"],
                "email": row["email"],
                "phone": row["phone"],
                "status": row["status"],
                "priority": row["priority"],
                "score": row["score"],
                "location": row["location__slug"],
                "owner": _owner(row),
                "first_contact_due_at": moment(due),
                "first_contacted_at": moment(contacted),
                "overdue": contact_is_overdue(
                    first_contacted_at=contacted, first_contact_due_at=due, now=now
                ),
                "treatments": [
                    {
                        "treatment": treatment,
                        "outcome": outcome,
                        "bookable_from": None
                        if bookable_from is None
                        else _DAY.to_representation(bookable_from),
                    }
                    for treatment, outcome, bookable_from in wanted
                ],
                "booking": booking_readiness(
                    ((outcome, bookable) for _t, outcome, bookable in wanted),
                    today=today,
                ).value,
                "created_at": moment(row["created_at"]),
                "match_uncertain": row["match_uncertain_with_id"] is not None,
            }
        )
    return items


def _owner(row: dict[str, Any]) -> dict[str, Any] | None:
    """UserOutputSerializer of the row's owner: User.get_full_name, else the
    username."""
    if row["owner_id"] is None:
        return None
    full_name = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
    return {"id": row["owner_id"], "name": full_name or row["owner__username"]}


class LeadListApi(APIView):
    """The queue: the leads of your locations, filtered, most urgent first."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="leads_list",
        parameters=[LeadListInputSerializer],
        responses={200: LeadListOutputSerializer, 400: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        params = LeadListInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        now = timezone.now()
        leads = lead_queue_values_for_user(
            user=request.user,
            filters=lead_filters_from(data, user=request_user(request)),
            now=now,
        )
        ordering = LEAD_ORDERINGS[data["ordering"]]
        page = keyset_page(
            leads,
            name=data["ordering"],
            field=ordering.field,
            descending=ordering.descending,
            cursor=data.get("cursor"),
            page_size=data["page_size"],
        )
        return Response(
            {
                "results": lead_list_items(page.rows, now=now),
                "next": page.next_url(request),
            }
        )
