"""Reads for the staff pages: the queue's rows with their flags and the counts per
status, one lead's page, the physician's queue. They compose the lower apps'
selectors with a fixed number of queries per page; health answers are read only
through intake's audited door (staff.views.review, staff.views.lead).
"""

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count

from booking.calendar_selectors import leads_waiting_to_sync
from intake.selectors.submissions import people_ages
from leads.api.pagination import KeysetPage, keyset_page, keyset_page_tiers
from leads.models import Lead, LeadTreatment
from leads.selectors import (
    LEAD_ORDERINGS,
    LeadFilters,
    lead_filters_apply,
    lead_list_for_user,
    lead_queue_for_user,
    lead_submission_ids_many,
    lead_urgency_tiers,
)

ADULT_AGE = 18
QUEUE_PAGE_SIZE = 50
# The workspace's own order: overdue first, then by priority, then by deadline.
URGENT = "urgent"


@dataclass(frozen=True)
class QueueRow:
    """One lead in the queue, with what a coordinator decides by at a glance."""

    lead: Lead
    # Time left to the first-contact deadline (negative: overdue); None once
    # contacted.
    due_in: dt.timedelta | None
    age: int | None
    possible_duplicate: bool
    waiting_for_review: bool
    waiting_to_sync: bool
    treatments: tuple[LeadTreatment, ...]

    @property
    def overdue(self) -> bool:
        return self.due_in is not None and self.due_in < dt.timedelta(0)

    @property
    def minor(self) -> bool:
        return self.age is not None and self.age < ADULT_AGE


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None
    counts: dict[str, int]  # per status, under the filters but the status one
    total: int


def queue_page(
    *,
    user: User | AnonymousUser,
    filters: LeadFilters,
    ordering: str,
    cursor: str | None,
    now: dt.datetime,
    page_size: int = QUEUE_PAGE_SIZE,
) -> QueuePage:
    """A page of the queue in `ordering` after `cursor` (keyset: one index range
    per page, or for URGENT one sort of the filtered leads), its rows' flags, and
    the counts per status. Six queries for any page and any number of leads."""
    leads = lead_queue_for_user(user=user, filters=filters, now=now)
    page: KeysetPage[Lead]
    if ordering == URGENT:
        # lead_urgency's tiers, each read along a deadline index: sorting every
        # open lead by urgency cost most of a second at a million leads.
        page = keyset_page_tiers(
            leads,
            name=URGENT,
            tiers=lead_urgency_tiers(now=now),
            field="first_contact_due_at",
            cursor=cursor,
            page_size=page_size,
        )
    else:
        order = LEAD_ORDERINGS[ordering]
        page = keyset_page(
            leads,
            name=ordering,
            field=order.field,
            descending=order.descending,
            cursor=cursor,
            page_size=page_size,
        )
    counts = status_counts(user=user, filters=filters, now=now)
    return QueuePage(
        rows=queue_rows(page.rows, now=now),
        next_cursor=page.next_cursor,
        counts=counts,
        total=sum(
            n
            for status, n in counts.items()
            if not filters.statuses or status in filters.statuses
        ),
    )


def status_counts(
    *, user: User | AnonymousUser, filters: LeadFilters, now: dt.datetime
) -> dict[str, int]:
    """How many leads of each status pass `filters` but its statuses: the tabs'
    figures. One query, counting rows rather than ids so that it reads
    lead_location_status_idx alone."""
    leads = lead_filters_apply(
        lead_list_for_user(user=user).filter(merged_into__isnull=True),
        filters=replace(filters, statuses=()),
        now=now,
    )
    counted = Counter(
        dict(leads.values("status").annotate(n=Count("*")).values_list("status", "n"))
    )
    return {status: counted[status] for status in Lead.Status.values}


def queue_rows(leads: Sequence[Lead], *, now: dt.datetime) -> list[QueueRow]:
    """`leads` (their treatments prefetched) as queue rows: three queries for the
    ages and the bookings waiting to sync, however many leads."""
    ids = [lead.pk for lead in leads]
    submissions = lead_submission_ids_many(lead_ids=ids)
    ages = people_ages(
        submission_ids_by_person=submissions, on=now.astimezone(dt.UTC).date()
    )
    syncing = leads_waiting_to_sync(lead_ids=ids)
    rows = []
    for lead in leads:
        treatments = tuple(lead.treatments.all())
        rows.append(
            QueueRow(
                lead=lead,
                due_in=(
                    None
                    if lead.first_contacted_at is not None
                    else lead.first_contact_due_at - now
                ),
                age=ages.get(lead.pk),
                possible_duplicate=lead.match_uncertain_with_id is not None,
                waiting_for_review=any(t.outcome == "review" for t in treatments),
                waiting_to_sync=lead.pk in syncing,
                treatments=treatments,
            )
        )
    return rows


def review_queue(*, user: User | AnonymousUser, now: dt.datetime) -> list[QueueRow]:
    """The leads with a treatment waiting for a physician, the longest waiting
    first (by when their newest questionnaire came): a fixed number of queries."""
    leads = lead_queue_for_user(
        user=user, filters=LeadFilters(outcome="review"), now=now
    ).order_by("last_submitted_at", "id")[:REVIEW_QUEUE_LENGTH]
    return queue_rows(list(leads), now=now)


REVIEW_QUEUE_LENGTH = 200
