"""Reads for staff: who sees which lead, the filtered queue, one lead and its history.

Every staff read of a lead starts from lead_list_for_user: a lead outside the user's
locations does not exist for them (the API answers 404, never 403, so nothing leaks).
"""

import datetime as dt
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from clinics.models import Location, StaffMember
from clinics.selectors import location_scoped
from core.request_scope import request_memo_get
from intake.selectors.submissions import age_on, person_youngest_age
from leads.matching import email_key
from leads.models import Lead, LeadEvent, LeadTask, LeadTreatment, PrivacyRequest
from leads.models.lead import lead_reference


def lead_email_key(email: str) -> str:
    """`email` as lead matching compares it, by the clinic's LEAD_EMAIL_MATCHING."""
    return email_key(email, matching=settings.LEAD_EMAIL_MATCHING)


def lead_coordinator_list(*, location: Location) -> QuerySet[User]:
    """The active lead coordinators of `location`: who hears when a lead there needs
    someone and its owner is missing or late."""
    return (
        User.objects.filter(
            is_active=True,
            staff_member__is_lead_coordinator=True,
            staff_member__locations=location,
        )
        .distinct()
        .order_by("pk")
    )


def lead_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Lead]:
    """Every lead `user` may see, merged ones included: all of them for a clinic
    admin, those of their own locations for coordinators and physicians, none for
    anyone else (clinics.selectors.location_scoped)."""
    return location_scoped(Lead.objects.all(), user=user)


@dataclass(frozen=True)
class LeadOrdering:
    """A queue order: one indexed column, then the id, both the same direction."""

    field: str
    descending: bool

    def order_by(self) -> tuple[str, str]:
        return (f"-{self.field}", "-id") if self.descending else (self.field, "id")


# Each is served by a composite (column, id) index: lead_due_idx, lead_created_idx,
# lead_score_idx. "due" first: the most urgent lead on top.
LEAD_ORDERINGS: dict[str, LeadOrdering] = {
    "due": LeadOrdering("first_contact_due_at", descending=False),
    "-created": LeadOrdering("created_at", descending=True),
    "created": LeadOrdering("created_at", descending=False),
    "-score": LeadOrdering("score", descending=True),
}
LEAD_ORDERING_DEFAULT = "due"


def lead_urgency(*, now: dt.datetime) -> Case:
    """A lead's place in "most urgent first": 0 while its first contact is overdue,
    then 1 to 3 by priority; within each, the deadline orders (staff.selectors)."""
    return Case(
        When(
            first_contacted_at__isnull=True, first_contact_due_at__lt=now, then=Value(0)
        ),
        When(priority=Lead.Priority.HIGH, then=Value(1)),
        When(priority=Lead.Priority.NORMAL, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


def lead_urgency_tiers(*, now: dt.datetime) -> tuple[Q, Q, Q, Q]:
    """lead_urgency's values 0 to 3 as four conditions that do not overlap and
    leave no lead out: the first a lead meets is its urgency."""
    overdue = Q(first_contacted_at__isnull=True, first_contact_due_at__lt=now)
    high, normal = Lead.Priority.HIGH, Lead.Priority.NORMAL
    return (
        overdue,
        ~overdue & Q(priority=high),
        ~overdue & Q(priority=normal),
        ~overdue & ~Q(priority__in=(high, normal)),
    )


@dataclass(frozen=True)
class LeadFilters:
    """The queue's filters, already parsed; an empty value filters nothing.

    Search is one of email_key, phone or name (the API decides which from `q`).
    """

    statuses: Sequence[str] = ()
    priorities: Sequence[str] = ()
    owner_id: int | None = None
    unassigned: bool = False
    overdue: bool = False
    location: Location | None = None
    treatment: str = ""
    outcome: str = ""
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    email_key: str = ""
    phone: str = ""
    name: str = ""


def _treatments_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "treatments", queryset=LeadTreatment.objects.order_by("treatment", "id")
    )


def lead_queue_for_user(
    *,
    user: User | AnonymousUser,
    filters: LeadFilters,
    now: dt.datetime,
) -> QuerySet[Lead]:
    """The leads `user` may see that pass `filters`, merged ones left out, with
    owner, location and treatments loaded: a fixed number of queries for any page."""
    return (
        _queue_leads(user=user, filters=filters, now=now)
        .select_related("location", "owner")
        .prefetch_related(_treatments_prefetch())
    )


def _queue_leads(
    *, user: User | AnonymousUser, filters: LeadFilters, now: dt.datetime
) -> QuerySet[Lead]:
    leads = lead_list_for_user(user=user).filter(merged_into__isnull=True)
    return lead_filters_apply(leads, filters=filters, now=now)


# What the queue's API shows of each lead, as plain values: building a Lead, its
# location and its owner's whole user row (password hash and all) for each of 50
# rows cost several times the query itself.
QUEUE_FIELDS = (
    "id",
    "code",
    "full_name",
    "email",
    "phone",
    "status",
    "priority",
    "score",
    "location__slug",
    "owner_id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "first_contact_due_at",
    "first_contacted_at",
    "created_at",
    "match_uncertain_with_id",
)


def lead_queue_values_for_user(
    *,
    user: User | AnonymousUser,
    filters: LeadFilters,
    now: dt.datetime,
) -> QuerySet[Lead, dict[str, Any]]:
    """lead_queue_for_user's leads as dicts of QUEUE_FIELDS (location and owner
    joined for those columns only); their treatments come from
    lead_treatments_many: two queries for any page."""
    rows: QuerySet[Lead, dict[str, Any]] = _queue_leads(
        user=user, filters=filters, now=now
    ).values(*QUEUE_FIELDS)
    return rows


def lead_treatments_many(
    *, lead_ids: Collection[int]
) -> dict[int, list[tuple[str, str, dt.date | None]]]:
    """(treatment, outcome, bookable_from) of each lead, by treatment as the
    prefetch orders them, for a page of leads: one query."""
    found: dict[int, list[tuple[str, str, dt.date | None]]] = {
        pk: [] for pk in lead_ids
    }
    rows = (
        LeadTreatment.objects.filter(lead_id__in=lead_ids)
        .order_by("treatment", "id")
        .values_list("lead_id", "treatment", "outcome", "bookable_from")
    )
    for lead_id, treatment, outcome, bookable_from in rows:
        found[lead_id].append((treatment, outcome, bookable_from))
    return found


def lead_filters_apply(
    leads: QuerySet[Lead], *, filters: LeadFilters, now: dt.datetime
) -> QuerySet[Lead]:
    """`leads` narrowed by `filters`. Each filter is served by an index on
    PostgreSQL (tests/leads/test_indexes.py checks every one with EXPLAIN)."""
    if filters.statuses:
        leads = leads.filter(status__in=filters.statuses)
    if filters.priorities:
        leads = leads.filter(priority__in=filters.priorities)
    if filters.owner_id is not None:
        leads = leads.filter(owner_id=filters.owner_id)
    if filters.unassigned:
        leads = leads.filter(owner__isnull=True)
    if filters.overdue:
        # The same condition as lead_awaiting_contact_idx, so that index serves it.
        leads = leads.filter(
            first_contacted_at__isnull=True, first_contact_due_at__lt=now
        )
    if filters.location is not None:
        leads = leads.filter(location_id=filters.location.pk)
    if filters.treatment or filters.outcome:
        treated = LeadTreatment.objects.filter(lead_id=OuterRef("pk"))
        if filters.treatment:
            treated = treated.filter(treatment=filters.treatment)
        if filters.outcome:
            treated = treated.filter(outcome=filters.outcome)
        leads = leads.filter(Exists(treated))
    if filters.created_after is not None:
        leads = leads.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        leads = leads.filter(created_at__lt=filters.created_before)
    if filters.email_key:
        leads = leads.filter(email_key=filters.email_key)
    if filters.phone:
        leads = leads.filter(phone=filters.phone)
    if filters.name:
        # UPPER(full_name::text) LIKE UPPER(...): the trigram index of migration 0003.
        leads = leads.filter(full_name__icontains=filters.name)
    return leads


# What a CSV export reads of each lead: plain values, no model instances.
EXPORT_FIELDS = (
    "id",
    "code",
    "full_name",
    "email",
    "phone",
    "preferred_language",
    "status",
    "lost_reason",
    "priority",
    "score",
    "location__slug",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "first_contact_due_at",
    "first_contacted_at",
    "created_at",
    "last_submitted_at",
)


def lead_export_list(
    *,
    user: User | AnonymousUser,
    filters: LeadFilters,
    ordering: LeadOrdering,
    now: dt.datetime,
    with_latest_submission: bool,
) -> QuerySet[Lead, dict[str, Any]]:
    """The queue's rows for a CSV export as dicts of EXPORT_FIELDS, in `ordering`;
    with_latest_submission adds each lead's newest submission's id (as
    `latest_submission_id`) for the audit."""
    leads = lead_filters_apply(
        lead_list_for_user(user=user).filter(merged_into__isnull=True),
        filters=filters,
        now=now,
    ).order_by(*ordering.order_by())
    if not with_latest_submission:
        rows: QuerySet[Lead, dict[str, Any]] = leads.values(*EXPORT_FIELDS)
        return rows
    newest = LeadEvent.objects.filter(
        lead_id=OuterRef("pk"),
        kind=LeadEvent.Kind.SUBMITTED,
        submission__isnull=False,
    ).order_by("-created_at", "-id")
    with_submission: QuerySet[Lead, dict[str, Any]] = leads.annotate(
        latest_submission_id=Subquery(newest.values("submission_id")[:1]),
    ).values(*EXPORT_FIELDS, "latest_submission_id")
    return with_submission


def lead_treatment_map(*, lead_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """(treatment, outcome) of each lead, by treatment, in one query."""
    found: dict[int, list[tuple[str, str]]] = {pk: [] for pk in lead_ids}
    rows = (
        LeadTreatment.objects.filter(lead_id__in=lead_ids)
        .order_by("lead_id", "treatment")
        .values_list("lead_id", "treatment", "outcome")
    )
    for lead_id, treatment, outcome in rows:
        found[lead_id].append((treatment, outcome))
    return found


def lead_count_overdue(*, now: dt.datetime) -> int:
    """How many leads, at every location, the queue's "overdue" filter shows:
    not contacted yet and past the first-contact deadline, merged ones left out.
    One COUNT over the partial index lead_awaiting_contact_idx."""
    leads = Lead.objects.filter(merged_into__isnull=True)
    return lead_filters_apply(leads, filters=LeadFilters(overdue=True), now=now).count()


def lead_is_overdue(lead: Lead, *, now: dt.datetime) -> bool:
    """Not contacted yet and past the first-contact deadline."""
    return contact_is_overdue(
        first_contacted_at=lead.first_contacted_at,
        first_contact_due_at=lead.first_contact_due_at,
        now=now,
    )


def contact_is_overdue(
    *,
    first_contacted_at: dt.datetime | None,
    first_contact_due_at: dt.datetime,
    now: dt.datetime,
) -> bool:
    """lead_is_overdue of a lead's two columns (a QUEUE_FIELDS row)."""
    return first_contacted_at is None and first_contact_due_at < now


def lead_get_for_user(*, user: User | AnonymousUser, code: uuid.UUID) -> Lead | None:
    """One lead `user` may see, with what its page shows (a fixed number of
    queries): treatments, submissions (`submission_events`), open tasks
    (`open_tasks`). A merged lead is found too: its merged_into says where it went."""
    return (
        lead_list_for_user(user=user)
        .select_related("location", "owner", "merged_into", "match_uncertain_with")
        .prefetch_related(
            _treatments_prefetch(),
            Prefetch(
                "events",
                queryset=LeadEvent.objects.filter(
                    kind=LeadEvent.Kind.SUBMITTED, submission__isnull=False
                )
                .select_related("submission")
                .only(
                    "lead_id",
                    "created_at",
                    "submission__code",
                    "submission__submitted_at",
                )
                .order_by("created_at", "id"),
                to_attr="submission_events",
            ),
            Prefetch(
                "tasks",
                queryset=LeadTask.objects.filter(done_at__isnull=True)
                .select_related("assignee")
                .order_by("due_at", "id"),
                to_attr="open_tasks",
            ),
        )
        .filter(code=code)
        .first()
    )


def lead_event_list(*, lead: Lead) -> QuerySet[LeadEvent]:
    """The lead's timeline with actors and submission codes (lead_event_idx)."""
    return (
        LeadEvent.objects.filter(lead_id=lead.pk)
        .select_related("actor", "submission")
        .defer(
            "submission__health_answers_ciphertext",
            "submission__source",
            "submission__contact_times",
        )
    )


# What the hand-off of a submission (leads.services.handoff) leaves in the request
# memo (core.request_scope) for the reads below, keyed by submission or lead id.
MEMO_LEAD_FOR_SUBMISSION = "lead for submission"
MEMO_TREATMENT_STANDINGS = "treatment standings"
MEMO_LEAD_STARTED = "lead started"
MEMO_LEAD_BIRTH_DATE = "lead birth date"


def lead_for_submission(*, submission_id: int) -> Lead | None:
    """The open-or-closed lead a submission belongs to now (the lead it was merged
    into, if it was), with its location."""
    handed_off = request_memo_get((MEMO_LEAD_FOR_SUBMISSION, submission_id))
    if handed_off is not None:
        return handed_off  # type: ignore[no-any-return]
    event = (
        LeadEvent.objects.filter(
            kind=LeadEvent.Kind.SUBMITTED, submission_id=submission_id
        )
        .select_related("lead__location", "lead__merged_into__location")
        .first()
    )
    if event is None:
        return None
    return event.lead.merged_into or event.lead


def lead_submission_ids_many(*, lead_ids: Collection[int]) -> dict[int, list[int]]:
    """Each lead's submission ids, for a page of leads: one query."""
    found: dict[int, list[int]] = {pk: [] for pk in lead_ids}
    for lead_id, submission_id in LeadEvent.objects.filter(
        lead_id__in=lead_ids, kind=LeadEvent.Kind.SUBMITTED, submission__isnull=False
    ).values_list("lead_id", "submission_id"):
        found[lead_id].append(submission_id)
    return found


def lead_owner_choices(*, location: Location) -> QuerySet[User]:
    """Who may own a lead at `location`: its active coordinators
    (leads.services.assignment.owner_may_keep says the same of one)."""
    return (
        User.objects.filter(
            is_active=True,
            staff_member__role=StaffMember.Role.COORDINATOR,
            staff_member__locations=location,
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def lead_submission_ids(*, lead: Lead) -> QuerySet[LeadEvent, int]:
    """The ids of the lead's submissions (a merged duplicate's included), unevaluated:
    what the lead's health page asks intake to read, as a subquery of that read."""
    return LeadEvent.objects.filter(
        lead_id=lead.pk, kind=LeadEvent.Kind.SUBMITTED, submission__isnull=False
    ).values_list("submission_id", flat=True)


@dataclass(frozen=True)
class TreatmentStanding:
    """A wanted treatment's effective screening outcome, and for a deferred one
    the day it may be booked from (None: when a person has looked again)."""

    outcome: str
    bookable_from: dt.date | None


def lead_treatment_outcomes(*, lead: Lead) -> dict[str, TreatmentStanding]:
    """Where the lead stands on each treatment the person asked about (from the
    request's hand-off, when it just wrote them)."""
    written = request_memo_get((MEMO_TREATMENT_STANDINGS, lead.pk))
    if written is not None:
        return dict(written)
    return {
        treatment: TreatmentStanding(outcome, bookable_from)
        for treatment, outcome, bookable_from in lead.treatments.values_list(
            "treatment", "outcome", "bookable_from"
        )
    }


def lead_treatments_cleared(*, lead: Lead) -> frozenset[str]:
    """The treatments whose newest physician decision on this lead is "cleared"."""
    if request_memo_get((MEMO_LEAD_STARTED, lead.pk)):
        return frozenset()  # a lead made in this request has no decisions yet
    newest: dict[str, str] = {}
    for treatment, decision in (
        lead.events.filter(kind=LeadEvent.Kind.PHYSICIAN_DECISION)
        .order_by("-created_at", "-id")
        .values_list("data__treatment", "data__decision")
    ):
        newest.setdefault(treatment, decision)
    return frozenset(t for t, decision in newest.items() if decision == "cleared")


def lead_youngest_age(*, lead: Lead, on: dt.date) -> int | None:
    """The person's age on `on` by the latest birth date their submissions give
    (intake.selectors.person_youngest_age); None when none gives one."""
    if request_memo_get((MEMO_LEAD_STARTED, lead.pk)):
        born = request_memo_get((MEMO_LEAD_BIRTH_DATE, lead.pk))
        return None if born is None else age_on(born, on=on)
    return person_youngest_age(submission_ids=lead_submission_ids(lead=lead), on=on)


def lead_change_entries(
    *, since: dt.datetime, until: dt.datetime
) -> Iterator[tuple[dt.datetime, str, str, str]]:
    """Every change staff made to a lead (its timeline events with a person behind
    them) from `since` to `until`, oldest first: (when, who, what, the lead's
    reference), streamed in chunks."""
    rows = (
        LeadEvent.objects.filter(
            actor__isnull=False, created_at__gte=since, created_at__lt=until
        )
        .order_by("created_at", "pk")
        .values_list("created_at", "actor__username", "kind", "lead__code")
    )
    for created_at, username, kind, code in rows.iterator(chunk_size=2000):
        yield created_at, username, kind, f"lead {lead_reference(code)}"


def privacy_request_open_list() -> QuerySet[PrivacyRequest]:
    """The requests about personal data not yet answered, oldest first."""
    return PrivacyRequest.objects.filter(handled_at__isnull=True).select_related("lead")
